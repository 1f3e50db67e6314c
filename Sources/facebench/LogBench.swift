import ArgumentParser
import FaceStore
import Foundation
import GRDB

struct LogBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "How fast the audit log answers an administrator's questions on a busy door's log.",
        discussion: """
            Generates --days days of --per-day decisions at two doors (a seeded, made-up log in a \
            temporary gallery), then times the queries behind `facectl log summary` and `facectl log`: \
            one day, a week and the whole range, for everyone and for one person or door. Each figure \
            is the median of --runs runs.

            Example:
              .build/release/facebench log --days 30 --per-day 10000
            """)

    @Option(help: "Days of log.")
    var days = 30
    @Option(help: "Decisions a day.")
    var perDay = 10_000
    @Option(help: "Runs per query; the median is reported.")
    var runs = 5
    @Option(help: "IANA zone of the door.")
    var timeZone = "Europe/Berlin"
    @Option(help: ArgumentHelp("Keep the generated gallery at this path (a new file) to try facectl on it.", valueName: "path"))
    var keep: String?
    @Flag(help: "Drop the indexes schema v7 adds for the log's questions, to see what they buy.")
    var withoutIndexes = false

    func validate() throws {
        guard (1 ... 3650).contains(days), (1 ... 1_000_000).contains(perDay), (1 ... 100).contains(runs) else {
            throw ValidationError("--days 1-3650, --per-day 1-1000000, --runs 1-100")
        }
        guard TimeZone(identifier: timeZone) != nil else { throw ValidationError("unknown --time-zone \(timeZone)") }
        if let keep, FileManager.default.fileExists(atPath: keep) { throw ValidationError("--keep \(keep) exists; name a new file") }
    }

    func run() throws {
        let zone = TimeZone(identifier: timeZone)!
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facebench-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try FaceStore(path: keep ?? dir.appendingPathComponent("faced.db").path, create: true)
        let people = (1 ... 200).map { "person\($0)" }
        let generator = SyntheticAuditLog(people: people, cameras: ["front", "lab"], zone: zone)
        // Ending yesterday, so that today, yesterday and weekdays find events in a kept gallery.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let first = calendar.date(byAdding: .day, value: -days, to: calendar.startOfDay(for: Date()))!
        let c = calendar.dateComponents([.year, .month, .day], from: first)
        let visits = generator.visits(firstDay: (c.year!, c.month!, c.day!), days: days, perDay: perDay, seed: 1)
        let started = Date()
        for chunk in stride(from: 0, to: visits.count, by: 10_000) {
            try store.append(contentsOf: visits[chunk ..< min(chunk + 10_000, visits.count)].map(\.event))
        }
        let appended = Date().timeIntervalSince(started)
        if withoutIndexes {
            try DatabaseQueue(path: store.path).write { db in
                try db.execute(sql: "DROP INDEX IF EXISTS events_person_time; DROP INDEX IF EXISTS events_camera_time")
            }
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int) ?? 0
        print("log: \(visits.count) decisions over \(days) days (\(perDay) a day), appended in \(String(format: "%.1f", appended)) s "
              + "(\(Int(Double(visits.count) / appended)) events/s), database \(bytes / 1_000_000) MB; indexes: \(withoutIndexes ? "time only" : "time, person+time, camera+time")")

        let middle = calendar.date(byAdding: .day, value: days / 2, to: first)!
        let nextDay = calendar.date(byAdding: .day, value: 1, to: middle)!
        let week = calendar.date(byAdding: .day, value: min(7, days), to: first)!

        var table = Table(header: ["question", "rows", "median ms", "max ms"])
        func time(_ name: String, _ query: () throws -> Int) throws {
            var seconds = [Double](), rows = 0
            for _ in 0 ..< runs {
                let t = Date()
                rows = try query()
                seconds.append(Date().timeIntervalSince(t))
            }
            seconds.sort()
            table.add([name, String(rows), ms(seconds[seconds.count / 2]), ms(seconds.last!)])
        }
        try time("summary, one day") { try store.summary(EventFilter(since: middle, until: nextDay), zone: zone).decisions }
        try time("summary, a week") { try store.summary(EventFilter(since: first, until: week), zone: zone).decisions }
        try time("summary, all \(days) days") { try store.summary(EventFilter(), zone: zone).decisions }
        try time("summary, one person, all days") { try store.summary(EventFilter(person: "person7"), zone: zone).decisions }
        try time("summary, one door, one day") { try store.summary(EventFilter(since: middle, until: nextDay, camera: "lab"), zone: zone).decisions }
        try time("log, one day, granted") { try store.events(EventFilter(since: middle, until: nextDay, decision: .granted)).count }
        try time("log, one person, all days") { try store.events(EventFilter(person: "person7")).count }
        try time("log, one door, one day") { try store.events(EventFilter(since: middle, until: nextDay, camera: "lab")).count }
        try time("log, newest 50") { try store.events(EventFilter(limit: 50)).count }
        print(table.render())
    }
}
