import FaceAccess
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing

/// `facectl enroll` and `facectl sync` keep usable photos: the CNN fallback is named in the
/// output, each limit is refused by default with the option or key that relaxes it, accepted
/// relaxed, and refused past its hard limit; the gallery is unchanged after every refusal.
@Suite struct RelaxedLimitsCLITests {
    let dir: TempDirectory
    let cli: CLI

    init() throws {
        dir = try TempDirectory()
        cli = CLI(db: dir.file("faced.db"))
        let biden = try cli.run("enroll", "biden", Fixtures.photo("biden.jpg"))
        #expect(biden.status == 0, "\(biden.stderr)")
    }

    func fingerprint() throws -> GalleryFingerprint { try GalleryFingerprint(FaceStore(path: cli.db, create: false)) }

    static func flag(_ key: String) -> String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    @Test func enrollNamesThePhotoOnlyTheCNNFound() throws {
        let path = try dir.write("turned.jpg", JPEGEncoder(quality: 95).encode(try Fixtures.image("obama3.jpg").rotated(degrees: 40)))
        let run = try cli.run("enroll", "obama", path, "--max-roll", "50")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\(path): found by the CNN detector (HOG found no face)"), "\(run.stdout)")
    }

    @Test func eachLimitIsRefusedByDefaultAndAcceptedRelaxed() throws {
        var photos = try SpoiledPhoto.all().map { ($0.key, try $0.write(in: dir), $0.relaxations) }
        if let turned = SpoiledPhoto.turnedFace { photos.append(("max_yaw", turned, [("max_yaw", 60)])) }
        for (key, path, relaxations) in photos {
            let before = try fingerprint()
            let refused = try cli.run("enroll", "someone", path)
            #expect(refused.status == 1, "\(key)")
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 2 && lines[1].hasPrefix("  \(path): ") && lines[1].hasSuffix(" (\(Self.flag(key)) to relax)"),
                    "\(key): \(refused.stderr)")
            #expect(try fingerprint() == before, "\(key): a refusal changed the gallery")
            let flags = relaxations.flatMap { [Self.flag($0.key), SpoiledPhoto.text($0.value)] }
            let accepted = try cli.run(["enroll", "someone-\(key.replacingOccurrences(of: "_", with: "-"))", path, "--force"] + flags)
            #expect(accepted.status == 0, "\(key) \(flags): \(accepted.stderr)")
        }
    }

    @Test func aValuePastTheHardLimitIsRefusedInOneLine() throws {
        let before = try fingerprint()
        let photo = try SpoiledPhoto.all()[0].write(in: dir)
        for (flag, value, hard) in [("--min-face", "30", "40"), ("--edge-tolerance", "0.5", "0.25"), ("--min-sharpness", "1", "2"),
                                    ("--min-brightness", "5", "10"), ("--max-brightness", "250", "245"), ("--min-contrast", "2", "5"),
                                    ("--max-yaw", "70", "60"), ("--max-roll", "70", "60")] {
            let run = try cli.run("enroll", "someone", photo, flag, value)
            #expect(run.status == 1, "\(flag)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.first?.contains("\(flag) \(value) is ") == true && lines.first?.contains("the hard limit of \(hard)") == true,
                    "\(flag): \(run.stderr)")
            #expect(try fingerprint() == before)
        }
        // Tightening is allowed: the same good photo is then refused by the tighter limit.
        let tight = try cli.run("enroll", "obama", Fixtures.photo("obama.jpg"), "--min-face", "400")
        #expect(tight.status == 1 && tight.stderr.contains("below the minimum 400 px") && tight.stderr.contains("(--min-face to relax)"),
                "\(tight.stderr)")
        #expect(try fingerprint() == before)
    }

    /// One manifest: every spoiled photo refused at the defaults, each naming its key; then each
    /// person relaxed by their own [people.NAME.quality] table (one by the manifest's [quality]).
    @Test func syncRefusesEachLimitAndAcceptsItRelaxedPerPersonOrForTheManifest() throws {
        let root = dir.file("Enrollment")
        var people = [(name: String, key: String, relaxations: [(key: String, value: Double)])]()
        var photos = try SpoiledPhoto.all().map { ($0.key, try $0.write(in: dir), $0.relaxations) }
        if let turned = SpoiledPhoto.turnedFace { photos.append(("max_yaw", turned, [("max_yaw", 60)])) }
        for (key, path, relaxations) in photos {
            let name = key.replacingOccurrences(of: "_", with: "-")
            try FileManager.default.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: path, toPath: "\(root)/\(name)/photo.jpg")
            people.append((name, key, relaxations))
        }
        let manifest = "\(root)/access.toml"
        func write(relaxed: Bool) throws {
            // The first person is relaxed by the manifest's [quality], the others by their own table.
            func lines(_ p: (name: String, key: String, relaxations: [(key: String, value: Double)])) -> String {
                p.relaxations.map { "\($0.key) = \(SpoiledPhoto.text($0.value))\n" }.joined()
            }
            let (first, rest) = (people[0], people.dropFirst())
            var text = relaxed ? "[quality]\n\(lines(first))\n[people.\(first.name)]\n" : "[people.\(first.name)]\n"
            for p in rest { text += relaxed ? "\n[people.\(p.name).quality]\n\(lines(p))" : "\n[people.\(p.name)]\n" }
            try text.write(toFile: manifest, atomically: true, encoding: .utf8)
        }
        try write(relaxed: false)
        let before = try fingerprint()
        let refused = try cli.run("sync", manifest)
        #expect(refused.status == 1)
        for p in people {
            #expect(refused.stderr.contains("\(p.name)/photo.jpg (\(p.name)): ")
                    && refused.stderr.contains("(people.\(p.name).quality.\(p.key) or [quality] \(p.key) to relax)"), "\(p.key): \(refused.stderr)")
        }
        #expect(try fingerprint() == before)

        try write(relaxed: true)
        let synced = try cli.run("sync", manifest)
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(synced.stdout.hasSuffix("synced: \(people.count) photos embedded\n"), "\(synced.stdout)")

        // Past the hard limit: one line naming the key and its line, nothing changed.
        let after = try fingerprint()
        try "[people.\(people[0].name).quality]\nmin_face = 30\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        let past = try cli.run("sync", manifest)
        #expect(past.status == 1 && past.stderr == "facectl: \(manifest):2: people.\(people[0].name).quality.min_face: 30 is below the hard limit of 40: "
                + "a face past it is useless for recognition\n", "\(past.stderr)")
        #expect(try fingerprint() == after)
    }
}
