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
        let log = try cli.run("log")
        #expect(log.status == 0, "\(log.stderr)")
        let lines = log.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 2, "one line per event: \(log.stdout)")
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
