import FaceAccess
import FaceStore
import FaceVision
import FaceTestSupport
import Foundation
import Testing

/// Runs the real facectl binary against one gallery.
struct CLI {
    let db: String

    func run(_ arguments: String...) throws -> ChildRun { try run(arguments) }

    func run(_ arguments: [String], withDB: Bool = true) throws -> ChildRun {
        try Binaries.run("facectl", arguments + (withDB ? ["--db", db] : []))
    }
}

@Suite struct FacectlTests {
    let dir: TempDirectory
    let cli: CLI

    init() throws {
        dir = try TempDirectory()
        cli = CLI(db: dir.file("faced.db"))
    }

    func fingerprint() throws -> GalleryFingerprint { try GalleryFingerprint(FaceStore(path: cli.db, create: false)) }

    func enrollObama() throws {
        let run = try cli.run("enroll", "obama", Fixtures.photo("obama.jpg"), Fixtures.photo("obama2.jpg"))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("enrolled obama: 2 photos added, 2 in total"))
    }

    @Test func enrollThenIdentify() throws {
        try enrollObama()
        let obama = try cli.run("identify", Fixtures.photo("obama3.jpg"))
        #expect(obama.status == 0)
        #expect(obama.stdout.contains("→ obama  (distance 0."))
        let biden = try cli.run("identify", Fixtures.photo("biden.jpg"))
        #expect(biden.status == 2, "no match exits 2")
        #expect(biden.stdout.contains("→ unknown  (closest obama"))
    }

    @Test func identifyJSONParsesAndHoldsEveryFace() throws {
        try enrollObama()
        let run = try cli.run("identify", "--json", "--level", "strict", Fixtures.photo("obama3.jpg"), Fixtures.photo("t1.jpg"))
        #expect(run.status == 0)
        let doc = try #require(try run.json() as? [String: Any])
        #expect((doc["level"] as? [String: Any])?["name"] as? String == "strict")
        let photos = try #require(doc["photos"] as? [[String: Any]])
        #expect(photos.count == 2)
        let first = try #require((photos[0]["faces"] as? [[String: Any]])?.first)
        #expect(first["verdict"] as? String == "match")
        #expect((first["best"] as? [String: Any])?["name"] as? String == "obama")
        #expect((first["box"] as? [String: Any])?["width"] as? Int ?? 0 > 100)
        let group = try #require(photos[1]["faces"] as? [[String: Any]])
        #expect(group.count == 6)
        #expect(group.allSatisfy { $0["verdict"] as? String == "unknown" })
    }

    @Test func badPhotosFailClearlyAndChangeNothing() throws {
        try enrollObama()
        let before = try fingerprint()
        for (kind, path) in try dir.badPhotos() {
            let run = try cli.run("enroll", "newcomer", path)
            #expect(run.status == 1, "\(kind)")
            #expect(run.stderr.contains("\(path): "), "\(kind): the message names the file: \(run.stderr)")
            #expect(run.stderr.hasPrefix("facectl: nothing enrolled"), "\(kind)")
            #expect(try fingerprint() == before, "\(kind) changed the gallery")
        }
        // A good photo next to a bad one is not enrolled either: all or nothing.
        let mixed = try cli.run("enroll", "newcomer", Fixtures.photo("biden.jpg"), Fixtures.photo("mask_white.jpg"))
        #expect(mixed.status == 1)
        #expect(mixed.stderr.contains("mask_white.jpg: no face"))
        #expect(try fingerprint() == before)
        let identify = try cli.run("identify", dir.file("does-not-exist.jpg"))
        #expect(identify.status == 1)
        #expect(identify.stderr.contains("does-not-exist.jpg: no such file"))
    }

    @Test func groupPhotoNeedsLargest() throws {
        try enrollObama()
        let before = try fingerprint()
        let refused = try cli.run("enroll", "someone", Fixtures.photo("t1.jpg"))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("6 faces found; crop the photo to one face or pass --largest"))
        #expect(try fingerprint() == before)
        let taken = try cli.run("enroll", "someone", Fixtures.photo("t1.jpg"), "--largest")
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(try fingerprint().templates == before.templates + 1)
    }

    @Test func duplicatePersonWarnsAndNeedsForce() throws {
        try enrollObama()
        let before = try fingerprint()
        let refused = try cli.run("enroll", "barack", Fixtures.photo("obama3.jpg"))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("warning: \(Fixtures.photo("obama3.jpg")) looks like enrolled person 'obama'"))
        #expect(refused.stderr.contains("--force"))
        #expect(try fingerprint() == before)
        let forced = try cli.run("enroll", "barack", Fixtures.photo("obama3.jpg"), "--force")
        #expect(forced.status == 0)
        #expect(forced.stderr.contains("warning:"))
        #expect(try fingerprint().people == before.people + 1)
    }

    @Test func listShowRemoveAndTheirJSON() throws {
        try enrollObama()
        #expect(try cli.run("enroll", "biden", "--display-name", "Joe Biden", Fixtures.photo("biden.jpg")).status == 0)

        let list = try cli.run("list", "--json")
        let people = try #require(try list.json() as? [[String: Any]])
        #expect(people.map { $0["name"] as? String } == ["biden", "obama"])
        #expect(people[0]["displayName"] as? String == "Joe Biden" && people[1]["templates"] as? Int == 2)
        #expect(try cli.run("list").stdout.contains("Joe Biden"))

        let show = try cli.run("show", "obama", "--json")
        let details = try #require(try show.json() as? [String: Any])
        let templates = try #require(details["templates"] as? [[String: Any]])
        #expect(templates.map { $0["source"] as? String } == ["obama.jpg", "obama2.jpg"])
        #expect((templates[0]["sha256"] as? String)?.count == 64)

        let removed = try cli.run("remove", "obama")
        #expect(removed.status == 0 && removed.stdout.contains("removed obama and 2 templates"))
        let store = try FaceStore(path: cli.db, create: false)
        #expect(try store.counts() == (1, 1), "obama's templates went with them")

        let unknown = try cli.run("show", "obama")
        #expect(unknown.status == 1 && unknown.stderr == "facectl: no person named 'obama' is enrolled (see `facectl list`)\n")
        #expect(try cli.run("remove", "obama").status == 1)
    }

    @Test func usageErrorsExitOne() throws {
        let badLevel = try cli.run("identify", "--level", "lax", Fixtures.photo("obama.jpg"))
        #expect(badLevel.status == 1 && badLevel.stderr.contains("'lax' is invalid"))
        #expect(try cli.run("enroll", "has space", Fixtures.photo("obama.jpg")).status == 1)
        #expect(try cli.run("frobnicate").status == 1)
        let help = try cli.run(["--help"], withDB: false)
        #expect(help.status == 0 && help.stdout.contains("Exit codes:"))
    }

    @Test func pixelBudgetIsEnforcedFromTheCommandLine() throws {
        let run = try cli.run("enroll", "obama", Fixtures.photo("obama3.jpg"), "--max-megapixels", "2")
        #expect(run.status == 1)
        #expect(run.stderr.contains("obama3.jpg: image is 1434x2333 (3 MP), above the 2 MP limit"), "\(run.stderr)")
    }

    @Test func readCommandsNeedAnExistingDatabase() throws {
        let run = try cli.run("list")
        #expect(run.status == 1)
        #expect(run.stderr == "facectl: no database at \(cli.db); enroll someone first, or pass --db or set FACED_DB\n")
        #expect(!FileManager.default.fileExists(atPath: cli.db))
    }

    @Test func missingModelsNameThePath() throws {
        let run = try cli.run("enroll", "obama", Fixtures.photo("obama.jpg"), "--models", dir.file("nomodels"))
        #expect(run.status == 1)
        #expect(run.stderr.contains("model file \(dir.file("nomodels"))/shape_predictor_5_face_landmarks.dat is missing"))
    }

    /// `facectl sync` end to end: dry run, sync with progress lines (stderr is not a terminal),
    /// a refused photo, a bad manifest, and the quality figures in `show`.
    @Test func syncFromAManifest() throws {
        let root = dir.file("Enrollment")
        for (folder, photo) in [("obama", "obama.jpg"), ("obama", "obama2.jpg"), ("biden", "biden.jpg")] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.photo(photo), toPath: "\(root)/\(folder)/\(photo)")
        }
        let manifest = "\(root)/access.toml"
        try "[people.obama]\ngroups = [\"staff\"]\n\n[people.biden]\n".write(toFile: manifest, atomically: true, encoding: .utf8)

        let dry = try cli.run("sync", manifest, "--dry-run")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout == """
            + biden: new, 1 photo
                + biden/biden.jpg
            + obama: new, 2 photos; groups staff
                + obama/obama.jpg
                + obama/obama2.jpg
            dry run: 2 to add, 0 to change, 0 to remove; 3 photos to embed, 0 templates to remove

            """)
        #expect(!FileManager.default.fileExists(atPath: cli.db), "a dry run creates no database")

        let synced = try cli.run("sync", manifest, "--jobs", "2")
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(synced.stdout.hasSuffix("synced: 3 photos embedded\n"), "\(synced.stdout)")
        #expect(synced.stderr.contains("facectl: 3/3 photos, ") && synced.stderr.contains("done in"), "\(synced.stderr)")
        let show = try cli.run("show", "obama")
        #expect(show.stdout.contains("BRIGHTNESS  CONTRAST  YAW°"), "\(show.stdout)")
        let again = try cli.run("sync", manifest)
        #expect(again.status == 0 && again.stdout == "no changes\nsynced: 0 photos embedded\n", "\(again)")

        // A blurred photo: refused with its check and value, nothing written, exit 1.
        let before = try fingerprint()
        let blurred = try Fixtures.image("obama3.jpg").boxBlurred(radius: 12)
        try dir.write("Enrollment/obama/blurred.jpg", JPEGEncoder(quality: 95).encode(blurred))
        let refused = try cli.run("sync", manifest)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("nothing changed; fix or leave out these photos:")
                && refused.stderr.contains("obama/blurred.jpg (obama): blurred: sharpness "), "\(refused.stderr)")
        #expect(try fingerprint() == before)

        // A bad manifest: one line naming the key and line, exit 1.
        try "[people.obama]\ngroup = [\"staff\"]\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        let bad = try cli.run("sync", manifest)
        #expect(bad.status == 1 && bad.stderr.hasPrefix("facectl: \(manifest):2: people.obama.group: unknown key"), "\(bad.stderr)")
        #expect(try fingerprint() == before)
    }

    /// `annotate` draws into every face box and keeps the photo's size; `show --contact-sheet`
    /// draws a cell per template.
    @Test func annotateAndContactSheet() throws {
        try enrollObama()
        let out = dir.file("t1-annotated.jpg")
        let run = try cli.run("annotate", Fixtures.photo("t1.jpg"), "-o", out)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("\(out): 6 faces: unknown 0."), "\(run.stdout)")
        let original = try Fixtures.image("t1.jpg")
        let annotated = try ImageDecoder(rejectsJPEGWarnings: true).decode(contentsOf: out)
        #expect(annotated.width == original.width && annotated.height == original.height)
        let faces = try Fixtures.engine.detect(original, minFace: 80)
        #expect(faces.count == 6)
        for face in faces {
            // Samples changed by more than 80: the outline and the landmark dots, not JPEG noise.
            let a = try original.cropped(to: face.box).pixels, b = try annotated.cropped(to: face.box).pixels
            let changed = zip(a, b).filter { abs(Int($0) - Int($1)) > 80 }.count
            #expect(changed * 100 >= a.count, "box \(face.box): \(changed) of \(a.count) samples changed")
        }
        let obama = try cli.run("annotate", Fixtures.photo("obama3.jpg"), "-o", dir.file("obama3.jpg"))
        #expect(obama.status == 0 && obama.stdout.contains(": 1 face: obama 0."), "\(obama.stdout)")
        let noFace = try cli.run("annotate", dir.file("missing.jpg"), "-o", dir.file("x.jpg"))
        #expect(noFace.status == 1 && noFace.stderr.contains("missing.jpg"), "\(noFace.stderr)")

        let photos = dir.file("obama-photos")
        try FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.photo("obama.jpg"), toPath: photos + "/a.jpg")
        let sheet = dir.file("sheet.jpg")
        let shown = try cli.run("show", "obama", "--contact-sheet", sheet, "--photos", photos)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stderr.contains("\(sheet): 2 faces, 1 without its photo in \(photos)"), "\(shown.stderr)")
        let grid = try ImageDecoder(rejectsJPEGWarnings: true).decode(contentsOf: sheet)
        #expect(grid.width == 2 * (Pictures.cellSize + 12) + 12, "two cells side by side")
        // The found photo's cell holds its aligned face: the detector finds it there.
        let cell = try grid.cropped(to: PixelRect(x: 12, y: 12, width: Pictures.cellSize, height: Pictures.cellSize))
        #expect(try Fixtures.engine.detect(cell.scaled(by: 2), minFace: 80).count == 1)
    }
}

/// `annotate -o` and `show --contact-sheet` replace only regular files: as root, `-o /dev/full`
/// once turned the device into a JPEG.
@Suite struct OutputFileTests {
    @Test func annotateRefusesAFIFOAndASymlink() throws {
        let dir = try TempDirectory()
        let cli = CLI(db: dir.file("faced.db"))
        let fifo = dir.file("fifo.jpg")
        #expect(mkfifo(fifo, 0o600) == 0)
        let target = try dir.write("precious.jpg", Array("keep me".utf8))
        let link = dir.file("link.jpg")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        for (path, kind) in [(fifo, "a FIFO"), (link, "a symbolic link")] {
            let run = try cli.run("annotate", Fixtures.photo("obama3.jpg"), "-o", path)
            #expect(run.status == 1, "\(kind)")
            #expect(run.stderr == "facectl: \(path) is \(kind), not a regular file: refusing to replace it; choose another path\n", "\(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO is still a FIFO")
        #expect(lstat(link, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK, "the symlink is still a symlink")
        #expect(FileManager.default.contents(atPath: target) == Data("keep me".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["fifo.jpg", "link.jpg", "precious.jpg"])
    }

    /// Also: `show --contact-sheet` refuses its output before it opens the gallery.
    @Test func theOutputsAre0600WhateverTheUmask() throws {
        let dir = try TempDirectory()
        let cli = CLI(db: dir.file("faced.db"))
        let out = dir.file("out.jpg")
        let old = umask(0o022)
        defer { umask(old) }
        let run = try cli.run("annotate", Fixtures.photo("obama3.jpg"), "-o", out)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int == 0o600, "it shows faces")
        #expect(mkfifo(dir.file("fifo.jpg"), 0o600) == 0)
        let refused = try cli.run("show", "nobody", "--contact-sheet", dir.file("fifo.jpg"))
        #expect(refused.status == 1 && refused.stderr.contains("is a FIFO, not a regular file"), "\(refused.stderr)")
    }
}

@Suite struct CompletionTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsKnowTheCommands(shell: String) throws {
        let run = try Binaries.run("facectl", ["--generate-completion-script", shell])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        for command in ["enroll", "cameras", "log", "why", "group"] { #expect(run.stdout.contains(command), "\(shell): \(command)") }
        let faced = try Binaries.run("faced", ["--generate-completion-script", shell])
        #expect(faced.status == 0 && faced.stdout.contains("check-config"), "\(shell)")
    }

}

/// What an administrator does shows in the audit log, chained like the decisions.
@Suite struct AdminLogTests {
    @Test func anEnrollmentIsAChainedEventWithWhoDidIt() throws {
        let dir = try TempDirectory()
        let cli = CLI(db: dir.file("faced.db"))
        #expect(try cli.run("enroll", "obama", Fixtures.photo("obama.jpg")).status == 0)
        #expect(try cli.run("set", "obama", "--disable").status == 0)
        let log = try cli.run("log")
        let lines = log.stdout.split(separator: "\n").dropFirst()
        #expect(log.stdout.hasPrefix("times in ") && lines.count == 2, "\(log.stdout)")
        let user = AdminActor.current
        #expect(lines.first?.contains("admin enroll obama: by \(user.user) (uid \(user.uid)): 1 photo added (obama.jpg), 1 in total") == true,
                "\(log.stdout)")
        #expect(lines.last?.contains("admin set obama: by \(user.user) (uid \(user.uid)): disabled") == true, "\(log.stdout)")
        let verify = try cli.run("log", "verify")
        #expect(verify.status == 0 && verify.stdout.hasPrefix("audit log intact: 2 events verified"), "\(verify.stdout)")
        let why = try cli.run("why", "1")
        #expect(why.stdout.contains("Gallery change (enroll) to 'obama': by \(user.user)"), "\(why.stdout)")
    }
}
