import FaceStore
import FaceTestSupport
import Foundation
import GRDB
import Testing

/// Hostile names and stored text against the real facectl binary.
@Suite struct NameOutputTests {
    let dir: TempDirectory
    let cli: CLI

    init() throws {
        dir = try TempDirectory()
        cli = CLI(db: dir.file("faced.db"))
    }

    @Test func aCyrillicLookalikeOfAnEnrolledNameIsRefused() throws {
        let first = try cli.run("enroll", "obama", Fixtures.photo("obama.jpg"))
        #expect(first.status == 0, "\(first.stderr)")
        let before = try GalleryFingerprint(FaceStore(path: cli.db, create: false))
        let run = try cli.run("enroll", "\u{43e}bama", Fixtures.photo("obama2.jpg"))
        #expect(run.status == 1)
        #expect(run.stderr == "facectl: '\u{43e}bama' looks like enrolled person 'obama' (it holds U+043E CYRILLIC SMALL LETTER O); "
                + "choose a name that cannot be mistaken for theirs\n", "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(try GalleryFingerprint(FaceStore(path: cli.db, create: false)) == before)
    }

    @Test func overlongAndControlNamesAreRefusedInOneLine() throws {
        for name in ["a" + String(repeating: "\u{301}", count: 2500), "bob\u{1b}[2J"] {
            let run = try cli.run("enroll", name, Fixtures.photo("obama.jpg"))
            #expect(run.status == 1)
            #expect(run.stderr.hasPrefix("facectl: invalid name '"), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").first!.utf8.count < 400, "the name is shown cut short")
            #expect(!run.stderr.contains("\u{1b}"))
        }
        #expect(!FileManager.default.fileExists(atPath: cli.db), "nothing was created")
    }

    /// Events as an old or tampered gallery may hold them: terminal escapes and forged lines.
    func hostileGallery() throws -> FaceStore {
        let store = try FaceStore(path: cli.db)
        var decision = AuditEvent(kind: .decision, time: Date(), camera: "door\u{1b}[2J")
        decision.decision = .denied
        decision.reason = .denial(.disabled)
        decision.personName = "mallory\n#99  2026-01-01T00:00:00.000Z  door  granted  mallory"
        decision.framesUsed = 3
        decision.bestDistance = 0.31
        try store.append(decision)
        var action = AuditEvent(kind: .action, time: Date(), camera: "=HYPERLINK(\"http://evil\",\"x\")")
        action.refEventID = 1
        action.personName = "mallory"
        action.detail = "exit 0\r\u{1b}[32mGRANTED\u{202e}"
        try store.append(action)
        // append escapes control characters; an old or tampered gallery holds them raw.
        try DatabaseQueue(path: cli.db).write { db in
            try db.execute(sql: "UPDATE events SET camera = ?, person_name = ? WHERE id = 1", arguments: [decision.camera, decision.personName])
            try db.execute(sql: "UPDATE events SET detail = ? WHERE id = 2", arguments: [action.detail])
        }
        return store
    }

    @Test func logAndWhyPrintStoredControlCharactersEscapedOnOneLine() throws {
        _ = try hostileGallery()
        let log = try cli.run("log", "--utc")
        #expect(log.status == 0, "\(log.stderr)")
        let lines = log.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().dropFirst()
        #expect(log.stdout.hasPrefix("times in UTC\n") && lines.count == 2, "a header, then one line per event: \(log.stdout)")
        #expect(log.stdout.unicodeScalars.filter(Names.isControl(_:)).allSatisfy { $0 == "\n" })
        #expect(lines.first?.contains("door\\x1b[2J") == true && lines.first?.contains("mallory\\n#99") == true, "\(log.stdout)")
        #expect(lines.last?.contains("exit 0\\r\\x1b[32mGRANTED\\u{202E}") == true, "\(log.stdout)")

        for id in ["1", "2"] {
            let why = try cli.run("why", id)
            #expect(why.status == 0, "\(why.stderr)")
            #expect(why.stdout.unicodeScalars.filter(Names.isControl(_:)).allSatisfy { $0 == "\n" })
            #expect(!why.stdout.split(separator: "\n").contains { $0.hasPrefix("#99") || $0.hasPrefix("\u{1b}") }, "\(why.stdout)")
        }
        let why = try cli.run("why", "1")
        #expect(why.stdout.hasPrefix("Event 1 at ") && why.stdout.contains("camera door\\x1b[2J:"), "\(why.stdout)")
        #expect(why.stdout.contains("for 'mallory\\n#99  2026-01-01T00:00:00.000Z  door  granted  mallory'"), "\(why.stdout)")

        let json = try cli.run("log", "--json")
        let events = try #require(try json.json() as? [[String: Any]])
        #expect(events.first?["camera"] as? String == "door\u{1b}[2J", "JSON stays exact")
    }

    @Test func csvNeutralisesFormulaCells() throws {
        _ = try hostileGallery()
        let csv = try cli.run("log", "--csv")
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout.contains(#",action,"#) && csv.stdout.contains(#","'=HYPERLINK(""http://evil"",""x"")","#), "\(csv.stdout)")
        #expect(!csv.stdout.contains(#","=HYPERLINK"#))
        #expect(csv.stdout.contains(",\"exit 0\r\u{1b}[32mGRANTED\u{202e}\"\n"), "a cell holding CR is quoted: \(csv.stdout)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"), "sqlite3 is not installed (scripts/setup.sh installs it)"))
    func listAndShowEscapeOldRows() throws {
        let run = try cli.run("enroll", "bob", Fixtures.photo("obama.jpg"))
        #expect(run.status == 0, "\(run.stderr)")
        // A row written before the rules on display names, as another tool could still write it.
        let sql = try Process.run(URL(fileURLWithPath: "/usr/bin/sqlite3"),
                                  arguments: [cli.db, "UPDATE people SET display_name = 'Bob' || char(27) || '[2J' || char(10) || 'evil'"])
        sql.waitUntilExit()
        #expect(sql.terminationStatus == 0)
        let list = try cli.run("list")
        #expect(list.status == 0 && list.stdout.split(separator: "\n").count == 2, "\(list.stdout)")
        #expect(list.stdout.contains("Bob\\x1b[2J\\nevil") && !list.stdout.contains("\u{1b}"), "\(list.stdout)")
        let show = try cli.run("show", "bob")
        #expect(show.stdout.contains("display:    Bob\\x1b[2J\\nevil") && !show.stdout.contains("\u{1b}"), "\(show.stdout)")
    }
}

/// `facectl why` and `facectl log` on typed events: per-frame evidence, the refusal a grant
/// follows, events written before schema v6.
@Suite struct WhyEvidenceTests {
    let dir: TempDirectory
    let cli: CLI
    let store: FaceStore

    init() throws {
        dir = try TempDirectory()
        cli = CLI(db: dir.file("faced.db"))
        store = try FaceStore(path: cli.db)
    }

    func decision(_ decision: AuditEvent.Decision, _ reason: DenialReason?, person: String?, at seconds: Double) -> AuditEvent {
        var event = AuditEvent(kind: .decision, time: Date(timeIntervalSince1970: 1_795_000_000 + seconds), camera: "door")
        event.trackID = 7
        event.decision = decision
        event.reason = reason.map(AuditEvent.Reason.denial)
        event.personName = person
        event.bestDistance = decision == .granted ? 0.412 : 0.61
        event.framesUsed = 3
        event.evidence = "[0.6100,0.6200]"
        return event
    }

    @Test func whyShowsEachFrameAndTheRefusalTheGrantFollows() throws {
        var refusal = decision(.unknown, .unknown, person: nil, at: 0)
        refusal.closestName = "obama"
        try store.append(refusal)
        var grant = decision(.granted, nil, person: "obama", at: 2)
        grant.refEventID = 1
        grant.frameEvidence = [
            FrameEvidence(offsetMs: 0, distance: 0.58, person: "obama", faceWidth: 70, sharpness: 150, yaw: 5),
            FrameEvidence(offsetMs: 120, distance: 0.7, person: "biden", faceWidth: 52, sharpness: 140, yaw: 2, skipped: [.small]),
            FrameEvidence(offsetMs: 240, faceWidth: 90, sharpness: 12.34, yaw: 1, skipped: [.blurred]),
            FrameEvidence(offsetMs: 400, distance: 0.4123, person: "obama", faceWidth: 120, sharpness: 300, yaw: -4),
            FrameEvidence(offsetMs: 1040, faceWidth: 110, sharpness: 200, yaw: 38.2, skipped: [.turned]),
        ]
        try store.append(grant)

        let why = try cli.run("why", "2", "--utc")
        #expect(why.status == 0, "\(why.stderr)")
        let lines = why.stdout.split(separator: "\n").map(String.init)
        let frames = try #require(lines.firstIndex(of: "Frames of the evidence window (2 of 5 counted):"), "\(why.stdout)")
        #expect(Array(lines[frames + 1 ... frames + 5]) == [
            "  +0.00 s: 0.580 to 'obama' — counted",
            "  +0.12 s: 52 px face, too small — not counted",
            "  +0.24 s: sharpness 12.3, too blurred — not counted",
            "  +0.40 s: 0.412 to 'obama' — counted",
            "  +1.04 s: yaw 38°, turned too far — not counted",
        ], "\(why.stdout)")
        #expect(lines.contains("Earlier on this track: logged unknown at 2026-11-18 11:06:40 (event 1). The evidence that followed let them in."),
                "\(why.stdout)")
        #expect(!why.stdout.contains("Distances per frame") && !why.stdout.contains("Detail:"), "\(why.stdout)")

        let unknown = try cli.run("why", "1")
        #expect(unknown.stdout.contains("\nClosest enrolled person: 'obama'.\n") && unknown.stdout.contains("\nDistances per frame: [0.6100,0.6200].\n"),
                "\(unknown.stdout)")

        let json = try #require(try cli.run("log", "--json").json() as? [[String: Any]])
        #expect(json[0]["frames"] == nil && json[0]["closest"] as? String == "obama")
        let perFrame = try #require(json[1]["frames"] as? [[String: Any]])
        #expect(perFrame.count == 5 && perFrame[1]["skipped"] as? [String] == ["small"] && perFrame[3]["distance"] as? Double == 0.4123)
        let csv = try cli.run("log", "--csv")
        #expect(csv.stdout.hasPrefix("id,kind,time,camera,track_id,decision,reason,person,distance,runner_up,runner_up_distance,margin,"
            + "frames_used,latency_ms,snapshot,ref_event_id,detail\n"), "the CSV columns stay as they were: \(csv.stdout)")
    }

    /// Before v6 the closest person and the earlier refusal were written into `detail`: shown
    /// as written, never read for meaning.
    @Test func anOldEventsDetailIsShownAsItWasWritten() throws {
        var refusal = decision(.unknown, .unknown, person: nil, at: 0)
        refusal.detail = "closest enrolled person: obama at 0.598"
        try store.append(refusal)
        var grant = decision(.granted, nil, person: "obama", at: 2)
        grant.refEventID = 1
        grant.detail = "after this track was logged unknown at 2026-11-18T11:06:40Z; schedules in force: none (any time); time zone UTC"
        try store.append(grant)

        let unknown = try cli.run("why", "1")
        #expect(unknown.status == 0, "\(unknown.stderr)")
        #expect(unknown.stdout.contains("\nDetail: closest enrolled person: obama at 0.598.\n") && !unknown.stdout.contains("Closest enrolled person"),
                "\(unknown.stdout)")
        #expect(unknown.stdout.contains("\nDistances per frame: [0.6100,0.6200].\n"), "\(unknown.stdout)")
        let granted = try cli.run("why", "2", "--utc")
        #expect(granted.stdout.contains("\nDetail: after this track was logged unknown at 2026-11-18T11:06:40Z; schedules in force: none (any time); "
            + "time zone UTC.\n"), "\(granted.stdout)")
        #expect(granted.stdout.contains("Earlier on this track: logged unknown at 2026-11-18 11:06:40 (event 1)."), "\(granted.stdout)")
    }

    @Test func logFiltersTakeTheLogsOwnWordsAndNameABadOne() throws {
        try store.append(decision(.granted, nil, person: "obama", at: 0))
        try store.append(decision(.denied, .outsideSchedule, person: "biden", at: 1))
        var lost = AuditEvent(kind: .camera, time: Date(timeIntervalSince1970: 1_795_000_002), camera: "door")
        lost.reason = .camera(.lost)
        lost.detail = "unplugged"
        try store.append(lost)

        let denied = try cli.run("log", "--decision", "denied")
        #expect(denied.status == 0 && denied.stdout.split(separator: "\n").count == 2 && denied.stdout.contains("denied (outside_schedule)  biden"),
                "\(denied.stdout)")
        let camera = try cli.run("log", "--reason", "camera_lost")
        #expect(camera.stdout.contains("\n#3  ") && camera.stdout.contains("camera_lost: unplugged"), "\(camera.stdout)")

        let bad = try cli.run("log", "--decision", "maybe")
        #expect(bad.status == 1 && bad.stdout.isEmpty)
        #expect(bad.stderr.hasPrefix("facectl: The value 'maybe' is invalid for '--decision <decision>'. Please provide one of 'granted', 'denied' or 'unknown'.\n"),
                "\(bad.stderr)")
        let badReason = try cli.run("log", "--reason", "let_in")
        #expect(badReason.status == 1 && badReason.stderr.hasPrefix("facectl: The value 'let_in' is invalid for '--reason <reason>'"), "\(badReason.stderr)")
    }
}
