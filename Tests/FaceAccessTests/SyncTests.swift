import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import FaceAccess

/// `facectl sync` at the library level: an Enrollment tree in a temp dir, a manifest, and the
/// gallery brought in line with it.
@Suite struct SyncTests {
    let dir: TempDirectory
    let store: FaceStore
    /// Two engines of its own, as on a 2-core door box: photos are embedded in parallel, and the
    /// engines' counters tell what this test embedded.
    let engines: [FaceEngine]
    let enroller: Enroller
    /// People taken from faces-dev (`facesDev: true`), with their photo count.
    let extra: [(name: String, photos: Int)]

    static let facesDevPeople = ["george_w_bush", "tony_blair", "hugo_chavez", "junichiro_koizumi"]

    init() throws { try self.init(facesDev: false) }

    init(facesDev: Bool) throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("faced.db"))
        engines = try (0 ..< 2).map { _ in try FaceEngine(models: FaceModels(directory: Fixtures.modelsDirectory)) }
        enroller = Enroller(engines: engines, store: store)
        let root = dir.file("Enrollment")
        for (folder, photos) in [("obama", ["obama.jpg", "obama2.jpg"]), ("biden", ["biden.jpg"]), ("shared", ["obama3.jpg"])] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
            for photo in photos { try FileManager.default.copyItem(atPath: Fixtures.photo(photo), toPath: "\(root)/\(folder)/\(photo)") }
        }
        var extra = [(String, Int)]()
        if facesDev {
            let facesDev = try #require(Fixtures.facesDev)
            for person in Self.facesDevPeople {
                try FileManager.default.copyItem(atPath: "\(facesDev)/\(person)", toPath: "\(root)/\(person)")
                extra.append((person, try FileManager.default.contentsOfDirectory(atPath: "\(root)/\(person)").count))
            }
        }
        self.extra = extra
        try writeManifest()
    }

    var manifestPath: String { dir.file("Enrollment/access.toml") }

    func writeManifest(obama: String = #"photos = ["obama", "shared/obama3.jpg"]"#) throws {
        var text = """
            [groups.staff]
            schedules = ["mon-fri 07:00-20:00"]

            [people.obama]
            display_name = "Barack Obama"
            groups = ["staff"]
            \(obama)

            [people.biden]
            valid_until = "2027-06-30T18:00:00Z"
            level = "strict"
            liveness = "motion"

            """
        for (name, _) in extra { text += "[people.\(name)]\ngroups = [\"visitors\"]\n\n" }
        try text.write(toFile: manifestPath, atomically: true, encoding: .utf8)
    }

    func sync(prune: Bool = false) throws -> (plan: SyncPlan, result: SyncResult) {
        let plan = try Syncer(store: store).plan(try AccessManifest(file: manifestPath), prune: prune)
        return (plan, try Syncer(store: store).apply(plan, enroller: enroller, options: .init()))
    }

    var embeddings: Int { engines.map(\.embeddingsComputed).reduce(0, +) }

    func templates(_ name: String) throws -> [FaceTemplate] {
        guard let person = try store.person(named: name) else { return [] }
        return try store.templates(ofPersonID: person.id!)
    }

    @Test func dryRunSyncResyncDeleteAndPrune() throws {
        // Someone enrolled by hand, whom the manifest does not list.
        let tom = try enroller.prepare([Fixtures.photo("Tom_Hanks_54745.png")], for: "tom", options: .init())
        try enroller.commit([try tom[0].result.get()], name: "tom")
        let empty = try GalleryFingerprint(store)

        // The dry run: exactly the expected diff, and nothing written.
        let plan = try Syncer(store: store).plan(try AccessManifest(file: manifestPath), prune: false)
        let until = try #require(AccessTime.parse("2027-06-30T18:00:00Z")).formatted(Date.ISO8601FormatStyle(timeZone: .current))
        var expected = [
            "+ biden: new, 1 photo; valid until \(until); level strict; liveness motion", "    + biden/biden.jpg",
        ]
        for (name, count) in extra.sorted(by: { $0.name < $1.name }) where name < "obama" {
            expected.append("+ \(name): new, \(count) photos; groups visitors")
            expected += (1 ... count).map { String(format: "    + \(name)/%02d.jpg", $0) }
        }
        expected += ["+ obama: new, 3 photos; display name \"Barack Obama\"; groups staff",
                     "    + obama/obama.jpg", "    + obama/obama2.jpg", "    + shared/obama3.jpg"]
        for (name, count) in extra.sorted(by: { $0.name < $1.name }) where name > "obama" {
            expected.append("+ \(name): new, \(count) photos; groups visitors")
            expected += (1 ... count).map { String(format: "    + \(name)/%02d.jpg", $0) }
        }
        expected += ["= tom: not in the manifest; kept (--prune removes)", "~ group staff: schedules (none) → mon-fri 07:00-20:00"]
        #expect(plan.lines(relativeTo: dir.file("Enrollment")) == expected)
        let photos = 4 + extra.map(\.photos).reduce(0, +)
        #expect(plan.summary == "\(2 + extra.count) to add, 0 to change, 0 to remove; \(photos) photos to embed, 0 templates to remove, 1 group to change")
        #expect(try GalleryFingerprint(store) == empty, "a dry run writes nothing")
        #expect(embeddings == 1, "planning embeds nothing (the one is tom's)")

        // The sync applies it.
        let (_, first) = try sync()
        #expect(first.embedded == photos && embeddings == 1 + photos)
        #expect(try templates("obama").count == 3 && templates("biden").count == 1 && templates("tom").count == 1)
        for (name, count) in extra { #expect(try templates(name).count == count, "\(name)") }
        let obama = try #require(try store.person(named: "obama"))
        #expect(obama.displayName == "Barack Obama")
        #expect(try store.access(ofPersonID: obama.id!).groups == ["staff"])
        #expect(try store.groups().first { $0.name == "staff" }?.schedules == ["mon-fri 07:00-20:00"])
        let biden = try #require(try store.person(named: "biden"))
        #expect(biden.securityLevel == "strict" && biden.validUntil == AccessTime.parse("2027-06-30T18:00:00Z"))
        #expect(try biden.liveness == "motion" && store.person(named: "obama")?.liveness == nil)
        #expect(try store.snapshot().people.first { $0.name == "biden" }?.liveness == "motion")
        #expect(first.spread.isEmpty, "\(first.spread)")
        #expect(first.conflicts.isEmpty, "\(first.conflicts)")

        // Again: no change, no embedding, not even a write.
        let synced = try GalleryFingerprint(store)
        let (again, second) = try sync()
        #expect(again.isEmpty && again.summary == "no changes; 1 unlisted kept")
        #expect(second.embedded == 0 && embeddings == 1 + photos)
        #expect(try GalleryFingerprint(store) == synced)

        // One photo deleted: exactly its template goes.
        let before = try store.snapshot().templateIDs
        let obama2 = try #require(try templates("obama").first { $0.sourceName == "obama2.jpg" })
        try FileManager.default.removeItem(atPath: dir.file("Enrollment/obama/obama2.jpg"))
        let (deletion, third) = try sync()
        #expect(deletion.lines(relativeTo: dir.file("Enrollment")) == ["~ obama: - obama2.jpg", "= tom: not in the manifest; kept (--prune removes)"])
        #expect(third.embedded == 0)
        #expect(try store.snapshot().templateIDs == before.filter { $0 != obama2.id })

        // Without --prune tom stays (above); with it he goes.
        let (pruning, _) = try sync(prune: true)
        #expect(pruning.lines(relativeTo: dir.file("Enrollment")) == ["- tom: not in the manifest; removed with 1 template"])
        #expect(try store.person(named: "tom") == nil)
        #expect(try store.counts().people == 2 + extra.count)
    }

    /// The two tests that count people and photos (the dry run and the group photo), with four
    /// more people from faces-dev (5 photos each, named 01.jpg…).
    @Test(.enabled(if: Fixtures.facesDev != nil, "../shared/faces-dev is not on this machine"))
    func theSameWithFacesDevPeople() throws {
        try SyncTests(facesDev: true).dryRunSyncResyncDeleteAndPrune()
        try SyncTests(facesDev: true).aGroupPhotoNeedsLargest()
    }

    @Test func oneRefusedPhotoLeavesTheGalleryAsItWas() throws {
        _ = try sync()
        let synced = try GalleryFingerprint(store)
        // A new, good photo for obama and a blurred one for biden in the same sync.
        try FileManager.default.copyItem(atPath: Fixtures.photo("obama_partial_face.jpg"), toPath: dir.file("Enrollment/obama/partial.jpg"))
        let blurred = try Fixtures.image("biden.jpg").boxBlurred(radius: 12)
        try JPEGEncoder(quality: 95).encode(blurred).withUnsafeBufferPointer { try Data($0).write(to: URL(fileURLWithPath: dir.file("Enrollment/biden/blurred.jpg"))) }
        do {
            _ = try sync()
            Issue.record("a sync with a blurred photo went through")
        } catch let SyncError.rejected(list) {
            #expect(list.map(\.path).contains(dir.file("Enrollment/biden/blurred.jpg")), "\(list)")
            #expect(list.first { $0.path.hasSuffix("blurred.jpg") }.map { "\($0.reason)".hasPrefix("blurred: sharpness") } == true)
        }
        #expect(try GalleryFingerprint(store) == synced)
    }

    @Test func aGroupPhotoNeedsLargest() throws {
        try FileManager.default.createDirectory(atPath: dir.file("Enrollment/friends"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.photo("t1.jpg"), toPath: dir.file("Enrollment/friends/poker.jpg"))
        let base = try String(contentsOfFile: manifestPath, encoding: .utf8)
        try (base + "[people.friends]\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        #expect {
            _ = try sync()
        } throws: { error in
            guard case let SyncError.rejected(list) = error else { return false }
            return list.map { "\($0.reason)" } == ["6 faces found; crop the photo to one face or pass --largest"]
        }
        try (base + "[people.friends]\nlargest = true\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let (_, result) = try sync()
        #expect(result.embedded == 5 + extra.map(\.photos).reduce(0, +))
        let face = try #require(try templates("friends").first)
        let largest = try Fixtures.engine.detect(Fixtures.image("t1.jpg"), minFace: 80).map(\.box.area).max()
        #expect(face.boxWidth * face.boxHeight == largest)
    }

    @Test func aStrangerInAPersonsFolderIsFlagged() throws {
        try FileManager.default.copyItem(atPath: Fixtures.photo("biden.jpg"), toPath: dir.file("Enrollment/obama/someone.jpg"))
        let (_, result) = try sync()
        #expect(result.spread.map(\.photo) == [dir.file("Enrollment/obama/someone.jpg")], "\(result.spread)")
        #expect(result.spread.first?.person == "obama")
    }

    @Test func twoNamesForOneFaceAreReportedAsAConflict() throws {
        try FileManager.default.createDirectory(atPath: dir.file("Enrollment/barack"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.photo("obama3.jpg"), toPath: dir.file("Enrollment/barack/1.jpg"))
        try writeManifest(obama: #"photos = ["obama"]"#)
        try (try String(contentsOfFile: manifestPath, encoding: .utf8) + "[people.barack]\n").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let (_, result) = try sync()
        let pair = try #require(result.conflicts.first)
        #expect(Set([pair.first, pair.second]) == ["barack", "obama"] && pair.distance <= SecurityLevel.strict.maxDistance)
        #expect(result.conflicts.count == 1, "\(result.conflicts)")
    }
}

@Suite struct ManifestTests {
    func error(_ text: String) -> ManifestError? {
        do { _ = try AccessManifest(text: text, file: "/tmp/access.toml"); return nil } catch let e as ManifestError { return e } catch { return nil }
    }

    @Test func theExampleReads() throws {
        let manifest = try AccessManifest(file: Fixtures.root.appendingPathComponent("Enrollment/access.example.toml").path)
        #expect(manifest.people.map(\.name) == ["alice", "bob", "carol", "dave"])
        #expect(manifest.groups["staff"] == ["mon-fri 07:00-20:00"])
        let bob = try #require(manifest.people.first { $0.name == "bob" })
        #expect(bob.photos == ["bob/*.jpg", "shared/bob-badge.png"] && bob.groups == ["staff", "cleaning"])
        #expect(bob.quality == [.minFace: 60, .maxYaw: 45] && manifest.limits(of: bob).minFace == 60)
        let carol = try #require(manifest.people.first { $0.name == "carol" })
        #expect(carol.level == .strict && !carol.enabled && carol.photos == ["carol"] && !carol.largest && bob.largest)
        #expect(carol.liveness == .motion && bob.liveness == nil)
    }

    /// Found by fuzzing (Fuzz/FuzzManifest): toml++ aborted the process on these headers.
    @Test func aTableHeaderWithoutANameIsAnErrorNotAnAbort() {
        let headers = [("[.", 1), ("[people.alice]\nenabled = true\n[.opgruscleaning]\n", 3), ("[[ .x]]", 1), ("\u{FEFF}\t[ .x]", 1),
                       ("[# Enrollment/access.toml", 1), ("[=]", 1), ("[é]", 1), ("[", 1), ("\n\n[*x]\n", 3), ("[]\n", 1)]
        for (text, line) in headers {
            let e = error(text)
            #expect(e?.line == line && e?.message.hasSuffix(TOMLSyntax.headerMessage) == true, "\(text.debugDescription)")
        }
        // Found by the second fuzz run: a \"\"\" or \'\'\' in a comment must not hide the header that follows.
        #expect(error("#\"\"\"\n[/")?.line == 2)
        #expect(error("#\'\'\'\n[#")?.line == 2)
        // Found by the third: a combining mark after [ makes one Character with it.
        #expect(error("[\u{313}")?.line == 1)
        #expect(error("[ \"people\".alice ]\n") == nil)
    }

    /// Found by fuzzing: toml++ aborted on a malformed array; the syntax check names it first.
    @Test func malformedTOMLIsNamedWithItsLineAndColumn() {
        #expect(error("[groups.staff]\nschedules = [}\n")?.description == "/tmp/access.toml:2: column 14: expected a value or ] in the array, found '}'")
        #expect(error("[people.alice]\ngroups = [\"staff\",\n")?.line == 2)
    }

    @Test func errorsNameTheKeyAndLine() {
        let unknown = error("[people.alice]\ngroups = [\"staff\"]\nbadge = 7\n")
        #expect(unknown?.description == "/tmp/access.toml:3: people.alice.badge: unknown key; allowed here: display_name, groups, enabled, valid_from, valid_until, photos, level, liveness, schedules, largest, quality")
        let type = error("[people.alice]\nenabled = \"yes\"\n")
        #expect(type?.description == "/tmp/access.toml:2: people.alice.enabled: must be true or false, got string")
        let level = error("[people.alice]\nlevel = \"lax\"\n")
        #expect(level?.description == "/tmp/access.toml:2: people.alice.level: must be one of relaxed, standard, strict, got \"lax\"")
        let liveness = error("[people.alice]\nliveness = \"blink\"\n")
        #expect(liveness?.description == "/tmp/access.toml:2: people.alice.liveness: must be \"motion\" or \"none\" (a person's own mode can only add the door's proof of a live face), got \"blink\"")
        #expect(error("[people.alice]\nliveness = \"off\"\n")?.line == 2, "off would read as a waiver it is not")
        #expect(error("[people.alice]\nliveness = \"none\"\n") == nil)
        let schedule = error("[groups.staff]\nschedules = [\"mon-fri 25:00-26:00\"]\n")
        #expect(schedule?.key == "groups.staff.schedules" && schedule?.line == 2)
        let date = error("[people.alice]\nvalid_until = 2027-06-30\n")
        #expect(date?.description.contains("people.alice.valid_until: must be a quoted date") == true, "\(String(describing: date))")
        let quality = error("[quality]\nmin_sharpness = -1\n")
        #expect(quality?.description == "/tmp/access.toml:2: quality.min_sharpness: -1 is below the hard limit of 2: a face past it is useless for recognition")
        let name = error("[people.\"al ice\"]\n")
        #expect(name?.key == "people.al ice")
        #expect(error("[doors]\n")?.key == "doors")
    }

    @Test func aPatternThatFindsNothingIsAnError() throws {
        let dir = try TempDirectory()
        try "[people.alice]\nphotos = [\"alice/*.jpg\"]\n".write(toFile: dir.file("access.toml"), atomically: true, encoding: .utf8)
        let manifest = try AccessManifest(file: dir.file("access.toml"))
        #expect(throws: ManifestError.self) { try manifest.photoPaths(of: manifest.people[0]) }
    }
}

@Suite struct ProgressMeterTests {
    @Test func barAndLines() {
        let start = Date(timeIntervalSince1970: 0)
        let meter = ProgressMeter(total: 20, start: start)
        #expect(meter.bar(done: 5, at: start.addingTimeInterval(2), width: 10) == "[##........]  5/20 photos, 2.5/s, 6 s left")
        #expect(meter.line(done: 20, at: start.addingTimeInterval(8)) == "20/20 photos, 2.5/s, done in 8.0 s")
        #expect((1 ... 20).filter(meter.isMilestone) == [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20])
    }
}
