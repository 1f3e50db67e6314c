import FaceStore
import FaceTestSupport
import Foundation
import Testing

/// The README's "asking the log" commands, run as written against a log generated around today,
/// and facectl's local times, summary and unchanged JSON/CSV.
@Suite struct AskingTheLogTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    /// The zone comes from $TZ, as in an administrator's shell; no config file speaks.
    static let environment = ["TZ": "Europe/Berlin", "FACED_CONFIG": "/nonexistent/faced.toml"]

    let dir: TempDirectory
    let db: String

    init() throws {
        dir = try TempDirectory()
        db = dir.file("faced.db")
    }

    func facectl(_ arguments: [String], environment: [String: String] = Self.environment) throws -> ChildRun {
        try Binaries.run("facectl", arguments + ["--db", db], environment: environment)
    }

    /// The commands under the README's marker, with the question above each.
    static func readmeQuestions() throws -> [(question: String, arguments: [String])] {
        let readme = try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let marker = readme.range(of: "<!-- asking-the-log:"),
              let open = readme.range(of: "```sh\n", range: marker.upperBound ..< readme.endIndex),
              let close = readme.range(of: "```", range: open.upperBound ..< readme.endIndex) else { return [] }
        var questions = [(String, [String])](), question = ""
        for line in readme[open.upperBound ..< close.lowerBound].split(separator: "\n") {
            if line.hasPrefix("# ") { question = String(line.dropFirst(2)) }
            if line.hasPrefix("facectl ") { questions.append((question, shellWords(String(line)).dropFirst().map { $0 })) }
        }
        return questions
    }

    /// Words as sh splits them, for the double quotes the README uses.
    static func shellWords(_ line: String) -> [String] {
        var words = [String](), word = "", quoted = false, inWord = false
        for c in line {
            if c == "\"" { quoted.toggle(); inWord = true } else if c == " " && !quoted {
                if inWord { words.append(word) }
                word = ""; inWord = false
            } else { word.append(c); inWord = true }
        }
        if inWord { words.append(word) }
        return words
    }

    struct Planned {
        var time: Date
        var camera: String
        var person: String?
        var decision: AuditEvent.Decision
    }

    /// Waits out the last two minutes of a local day: "yesterday" must not move under the test.
    static func awayFromMidnight(_ calendar: Calendar) -> Date {
        var now = Date()
        let midnight = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: now))!
        if midnight.timeIntervalSince(now) < 120 { Thread.sleep(until: midnight.addingTimeInterval(1)); now = Date() }
        return now
    }

    @Test func theReadmeAnswersTheFourQuestionsEachWithOneCommand() throws {
        let questions = try Self.readmeQuestions()
        #expect(questions.map(\.question) == [
            "Who came in yesterday after 8 pm?", "When did Alice first arrive each day this week?",
            "Which unknown visitors came at night, this week and last?", "Did anyone get in through the lab door on Sunday?",
        ])
        try #require(questions.count == 4)

        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.berlin
        let now = Self.awayFromMidnight(calendar)
        let today = calendar.startOfDay(for: now)
        func day(_ offset: Int) -> Date { calendar.date(byAdding: .day, value: offset, to: today)! }
        // Hours 2 and 3 are avoided: on a clock-change day they may not exist.
        func at(_ offset: Int, _ hour: Int, _ minute: Int) -> Date {
            calendar.date(bySettingHour: hour, minute: minute, second: 0, of: day(offset))!
        }
        let weekdayToday = calendar.component(.weekday, from: now)  // 1 = Sunday
        let monday = -((weekdayToday + 5) % 7)
        let sunday = -(weekdayToday - 1)  // the most recent Sunday, today included

        var plan = [Planned]()
        func add(_ time: Date, _ person: String?, _ decision: AuditEvent.Decision, camera: String = "front") {
            plan.append(Planned(time: time, camera: camera, person: person, decision: decision))
        }
        // Yesterday evening.
        add(at(-1, 19, 59), "alice", .granted); add(at(-1, 20, 5), "bob", .granted); add(at(-1, 23, 30), "carol", .granted)
        add(at(-1, 21, 0), nil, .unknown); add(at(0, 0, 10), "dave", .granted)
        // Alice this week, and the Sunday before it.
        for d in monday ... 0 {
            add(at(d, 8, 10 + d - monday), "alice", .granted); add(at(d, 12, 0), "alice", .granted)
            add(at(d, 12, 1), "alice", .denied); add(at(d, 17, 30), "alice", .granted)
        }
        add(at(monday - 1, 7, 0), "alice", .granted)
        // Unknown visitors by night and by day.
        add(at(-2, 23, 0), nil, .unknown); add(at(-2, 12, 0), nil, .unknown); add(at(-1, 5, 30), nil, .unknown)
        add(at(-15, 23, 0), nil, .unknown); add(at(-3, 22, 0), "bob", .granted)
        // Sunday at the lab.
        add(at(sunday, 10, 0), "bob", .granted, camera: "lab"); add(at(sunday, 10, 30), "alice", .granted)
        add(at(sunday, 11, 0), nil, .unknown, camera: "lab"); add(at(sunday - 1, 10, 0), "carol", .granted, camera: "lab")
        plan.sort { $0.time < $1.time }

        let store = try FaceStore(path: db, create: true)
        try store.append(contentsOf: plan.map { p in
            var e = AuditEvent(kind: .decision, time: p.time, camera: p.camera)
            e.decision = p.decision
            e.reason = p.decision == .granted ? nil : p.decision == .unknown ? .denial(.unknown) : .denial(.cooldown)
            e.personName = p.person
            e.framesUsed = 5
            return e
        })
        // Ids follow the plan's order.
        func ids(_ keep: (Planned) -> Bool) -> [Int] { plan.indices.filter { keep(plan[$0]) }.map { $0 + 1 } }
        func listed(_ run: ChildRun) -> [Int] {
            run.stdout.split(separator: "\n").compactMap { line in
                line.hasPrefix("#") ? Int(line.dropFirst().prefix { $0.isNumber }) : nil
            }
        }
        let hour = { (t: Date) in calendar.component(.hour, from: t) }

        // Who came in yesterday after 8 pm?
        let q1 = try facectl(questions[0].arguments)
        #expect(q1.status == 0, "\(q1.stderr)")
        #expect(q1.stdout.hasPrefix("times in Europe/Berlin (UTC+0"), "\(q1.stdout)")
        let wantQ1 = ids { $0.decision == .granted && $0.time >= at(-1, 20, 0) && $0.time < today }
        #expect(listed(q1) == wantQ1 && wantQ1.count == 2, "\(q1.stdout)")

        // When did Alice first arrive each day this week?
        let q2 = try facectl(questions[1].arguments)
        #expect(q2.status == 0, "\(q2.stderr)")
        var firstIn = [String: String]()
        for line in q2.stdout.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if words.count >= 4, words[2] == "alice" { firstIn[String(words[1])] = String(words[3]) }
        }
        var wantQ2 = [String: String]()
        for d in monday ... 0 {
            let first = plan.filter { $0.person == "alice" && $0.decision == .granted && $0.time >= day(d) && $0.time < day(d + 1) }.map(\.time).min()!
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: first)
            wantQ2[String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)] = String(format: "%02d:%02d:%02d", c.hour!, c.minute!, c.second!)
        }
        #expect(firstIn == wantQ2, "\(q2.stdout)")

        // Which unknown visitors came at night, this week and last?
        let q3 = try facectl(questions[2].arguments)
        #expect(q3.status == 0, "\(q3.stderr)")
        let wantQ3 = ids { $0.decision == .unknown && $0.time >= day(monday - 7) && (hour($0.time) >= 20 || hour($0.time) < 6) }
        #expect(listed(q3) == wantQ3 && wantQ3.count >= 3, "\(q3.stdout)")

        // Did anyone get in through the lab door on Sunday?
        let q4 = try facectl(questions[3].arguments)
        #expect(q4.status == 0, "\(q4.stderr)")
        let wantQ4 = ids { $0.decision == .granted && $0.camera == "lab" && $0.time >= day(sunday) && $0.time < day(sunday + 1) }
        #expect(listed(q4) == wantQ4 && wantQ4.count == 1, "\(q4.stdout)")
    }

    @Test func theSummaryOfAGeneratedMonthMatchesItsPlanAsJSONAndCSV() throws {
        let generator = SyntheticAuditLog(people: ["alice", "bob", "carol"], cameras: ["front", "lab"], zone: Self.berlin)
        let visits = generator.visits(firstDay: (2026, 10, 12), days: 30, perDay: 200, seed: 3)
        try FaceStore(path: db, create: true).append(contentsOf: visits.map(\.event))

        let run = try facectl(["log", "summary", "--since", "2026-10-12", "--until", "2026-11-11", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let doc = try #require(try run.json() as? [String: Any])
        #expect(doc["timeZone"] as? String == "Europe/Berlin")
        #expect(doc["decisions"] as? Int == 6000)
        #expect(doc["since"] as? String == "2026-10-12T00:00:00+02:00")
        let days = try #require(doc["days"] as? [[String: Any]])
        var firstGrants = [String: String](), grants = [String: Int]()
        for d in days {
            let key = "\(d["day"]!) \(d["person"]!)"
            firstGrants[key] = d["firstGrant"] as? String
            grants[key] = d["grants"] as? Int
        }
        let display = TimeDisplay(zone: Self.berlin)
        var wantFirst = [String: String](), wantGrants = [String: Int]()
        for v in visits where v.decision == .granted {
            let key = "\(v.day) \(v.person!)"
            wantGrants[key, default: 0] += 1
            if wantFirst[key] == nil { wantFirst[key] = display.iso(v.time) }
        }
        #expect(grants.filter { $0.value > 0 } == wantGrants)
        #expect(firstGrants == wantFirst)
        // The 25-hour day's first grants carry summer time, its last ones winter time.
        #expect(days.contains { $0["day"] as? String == "2026-10-25" && ($0["lastGrant"] as? String)?.hasSuffix("+01:00") == true })
        #expect(days.contains { ($0["firstGrant"] as? String)?.hasSuffix("+02:00") == true })

        let csv = try facectl(["log", "summary", "--on", "2026-10-25", "--csv"])
        let rows = csv.stdout.split(separator: "\n")
        #expect(rows.first == "day,weekday,person,first_grant,last_grant,grants,denials")
        #expect(rows.count == 4 && rows.dropFirst().allSatisfy { $0.hasPrefix("2026-10-25,sun,") }, "\(csv.stdout)")

        let text = try facectl(["log", "summary", "--on", "2026-10-25"])
        #expect(text.stdout.hasPrefix("times in Europe/Berlin (UTC+02:00); from 2026-10-25 00:00:00 to 2026-10-26 00:00:00 +01:00; 200 decisions"),
                "\(text.stdout)")
        #expect(text.stdout.contains("refusals by reason:"))
    }

    @Test func textShowsLocalTimeWhileJSONAndCSVKeepTheirUTCFields() throws {
        // Half a millisecond on: the stored text truncates, and a Double may hold .920 as .91999.
        let at = try Date("2026-11-30T00:41:58Z", strategy: .iso8601).addingTimeInterval(0.9205)
        var event = AuditEvent(kind: .decision, time: at, camera: "door")
        event.decision = .granted
        event.personName = "alice"
        event.bestDistance = 0.31
        event.framesUsed = 3
        try FaceStore(path: db, create: true).append(event)

        let berlin = try facectl(["log"])
        #expect(berlin.stdout == "times in Europe/Berlin (UTC+01:00)\n#1  2026-11-30 01:41:58  door  granted  alice  distance 0.310  3 frames\n",
                "\(berlin.stdout)")
        let newYork = try facectl(["log", "--time-zone", "America/New_York"])
        #expect(newYork.stdout.hasPrefix("times in America/New_York (UTC-05:00)\n#1  2026-11-29 19:41:58  door"), "\(newYork.stdout)")
        let utc = try facectl(["log", "--utc"])
        #expect(utc.stdout.hasPrefix("times in UTC\n#1  2026-11-30 00:41:58  door"), "\(utc.stdout)")
        let why = try facectl(["why", "1"])
        #expect(why.stdout.hasPrefix("Event 1 at 2026-11-30 01:41:58 Europe/Berlin (UTC+01:00), camera door:"), "\(why.stdout)")

        // The machine-readable forms are as they were: the stored UTC time, the same fields.
        let json = try #require(try facectl(["log", "--json"]).json() as? [[String: Any]])
        #expect(json.first?["time"] as? String == "2026-11-30T00:41:58.920Z")
        #expect(Set(json.first!.keys) == ["id", "kind", "time", "camera", "decision", "person", "distance", "framesUsed", "hash"])
        let csv = try facectl(["log", "--csv"]).stdout.split(separator: "\n")
        #expect(csv.first == "id,kind,time,camera,track_id,decision,reason,person,distance,runner_up,runner_up_distance,margin,frames_used,latency_ms,snapshot,ref_event_id,detail")
        #expect(csv.dropFirst().first?.hasPrefix("1,decision,2026-11-30T00:41:58.920Z,door,,granted,,alice,0.3100") == true)
    }

    @Test func showListAndSetGiveDatesInTheReadersZone() throws {
        #expect(try facectl(["enroll", "obama", Fixtures.photo("obama.jpg")]).status == 0)
        let set = try facectl(["set", "obama", "--valid-until", "2027-06-30"])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("valid:      from - until 2027-06-30 00:00:00 +02:00; times in Europe/Berlin (UTC+01:00)"), "\(set.stdout)")
        let show = try facectl(["show", "obama", "--utc"])
        #expect(show.stdout.contains("until 2027-06-29 22:00:00; times in UTC"), "\(show.stdout)")
        // --time-zone reads the date as well as showing it: midnight in Kathmandu, whatever $TZ says.
        let kathmandu = try facectl(["set", "obama", "--valid-from", "2026-12-01", "--time-zone", "Asia/Kathmandu"])
        #expect(kathmandu.stdout.contains("valid:      from 2026-12-01 00:00:00 until 2027-06-30 03:45:00; times in Asia/Kathmandu (UTC+05:45)"),
                "\(kathmandu.stdout)")
        let today = TimeDisplay(zone: Self.berlin).day(Date())
        let list = try facectl(["list"])
        #expect(list.stdout.contains(today) || list.stdout.contains(TimeDisplay(zone: Self.berlin).day(Date().addingTimeInterval(-60))), "\(list.stdout)")
    }

    @Test func theZoneComesFromTheOptionThenTZThenTheConfig() throws {
        try FaceStore(path: db, create: true).append(AuditEvent(kind: .camera, time: try Date("2026-07-01T12:00:00Z", strategy: .iso8601), camera: "door"))
        let config = dir.file("faced.toml")
        try "[policy]\ntimezone = \"Asia/Tokyo\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let fromConfig = try facectl(["log"], environment: ["TZ": "", "FACED_CONFIG": config])
        #expect(fromConfig.stdout.hasPrefix("times in Asia/Tokyo (UTC+09:00)\n#1  2026-07-01 21:00:00"), "\(fromConfig.stdout)")
        let fromTZ = try facectl(["log"], environment: ["TZ": "America/New_York", "FACED_CONFIG": config])
        #expect(fromTZ.stdout.hasPrefix("times in America/New_York (UTC-04:00)\n#1  2026-07-01 08:00:00"), "\(fromTZ.stdout)")
        let fromOption = try facectl(["log", "--time-zone", "Europe/Berlin"], environment: ["TZ": "America/New_York", "FACED_CONFIG": config])
        #expect(fromOption.stdout.hasPrefix("times in Europe/Berlin (UTC+02:00)\n#1  2026-07-01 14:00:00"), "\(fromOption.stdout)")
        // A broken config is passed over.
        try "[policy\ntimezone = ".write(toFile: config, atomically: true, encoding: .utf8)
        let broken = try facectl(["log"], environment: ["TZ": "", "FACED_CONFIG": config])
        #expect(broken.status == 0 && broken.stdout.contains("#1  2026-07-01"), "\(broken.stderr)")
    }

    @Test(arguments: [
        (["log", "--since", "yesterday at noon"], "--since: cannot read time 'yesterday at noon'"),
        (["log", "--on", "20:00"], "--on takes a day or a week"),
        (["log", "--until", "2026-11-01", "--since", "2026-11-02"], "is before --since"),
        (["log", "--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["log", "--utc", "--time-zone", "Europe/Berlin"], "choose one of --utc and --time-zone"),
        (["log", "--hours", "20-6"], "--hours must be a daily window HH:MM-HH:MM"),
        (["log", "summary", "--on", "someday"], "--on: cannot read time 'someday'"),
        (["log", "summary", "--json", "--csv"], "choose one of --json and --csv"),
    ])
    func aBadTimeIsOneLineNamingItAndExitsOne(_ arguments: [String], _ message: String) throws {
        try FaceStore(path: db, create: true).append(AuditEvent(kind: .camera, time: Date(), camera: "door"))
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let run = try facectl(arguments)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See ") && !$0.isEmpty }
        #expect(lines.count == 1 && lines[0].contains(message), "\(run.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }
}
