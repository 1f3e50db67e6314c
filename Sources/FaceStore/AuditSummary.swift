import Foundation
import GRDB

/// What the decisions over a range add up to: per person and local day, first and last grant and
/// the counts (what terminals call an attendance report), and the refusals by reason.
public struct AuditSummary: Sendable, Equatable {
    public struct PersonDay: Sendable, Equatable {
        /// The local day, "2026-11-24", and its first instant.
        public var day: String
        public var dayStart: Date
        public var person: String
        public var firstGrant: Date?
        public var lastGrant: Date?
        public var grants: Int
        /// Refusals naming this person (disabled, expired, outside_schedule, cooldown, ...).
        public var denials: Int
    }

    public struct RefusalCount: Sendable, Equatable {
        /// As stored: "unknown" or "denied", and the reason word.
        public var decision: String
        public var reason: String
        public var count: Int
    }

    /// By day, then person.
    public var personDays: [PersonDay]
    /// Most frequent first.
    public var refusals: [RefusalCount]
    /// Decision rows read.
    public var decisions: Int
    /// The first and last decision read.
    public var first: Date?
    public var last: Date?
}

extension FaceStore {
    /// Sums the decision rows `filter` selects (since, until, person, camera; other fields are
    /// ignored), with days as the wall clock of `zone` has them: 23 or 25 hours long across a
    /// daylight-saving change. `include` drops rows by time (a daily window of hours).
    public func summary(_ filter: EventFilter, zone: TimeZone, include: ((Date) -> Bool)? = nil) throws -> AuditSummary {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let display = TimeDisplay(zone: zone)
        var days = [String: Int]()  // "day\u{0}person" → index in personDays
        var personDays = [AuditSummary.PersonDay]()
        var refusals = [String: AuditSummary.RefusalCount]()
        var summary = AuditSummary(personDays: [], refusals: [], decisions: 0)
        var currentDay: (interval: DateInterval, label: String)?

        try reader.read { db in
            var sql = "SELECT time, decision, reason, person_name FROM events WHERE kind = 'decision'"
            var arguments = StatementArguments()
            if let since = filter.since { sql += " AND time >= ?"; _ = arguments.append(contentsOf: [AuditEvent.format(since)]) }
            if let until = filter.until { sql += " AND time < ?"; _ = arguments.append(contentsOf: [AuditEvent.format(until)]) }
            if let person = filter.person { sql += " AND person_name = ? COLLATE NOCASE"; _ = arguments.append(contentsOf: [person]) }
            if let camera = filter.camera { sql += " AND camera = ?"; _ = arguments.append(contentsOf: [camera]) }
            sql += " ORDER BY time, id"
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() {
                let text: String = row[0]
                guard let time = EventTime.parse(text) else { continue }
                if let include, !include(time) { continue }
                summary.decisions += 1
                summary.first = summary.first ?? time
                summary.last = time
                let decision: String? = row[1]
                let reason: String? = row[2]
                let person: String? = row[3]
                if decision != AuditEvent.Decision.granted.rawValue {
                    let word = decision ?? "?", why = reason ?? word
                    refusals["\(word)\u{0}\(why)", default: .init(decision: word, reason: why, count: 0)].count += 1
                }
                guard let person, decision == AuditEvent.Decision.granted.rawValue || decision == AuditEvent.Decision.denied.rawValue else { continue }
                if currentDay == nil || !currentDay!.interval.contains(time) || currentDay!.interval.end == time,
                   let interval = calendar.dateInterval(of: .day, for: time) {
                    currentDay = (interval, display.day(interval.start))
                }
                guard let day = currentDay else { continue }
                let key = day.label + "\u{0}" + person
                let index = days[key] ?? {
                    personDays.append(.init(day: day.label, dayStart: day.interval.start, person: person, grants: 0, denials: 0))
                    days[key] = personDays.count - 1
                    return personDays.count - 1
                }()
                if decision == AuditEvent.Decision.granted.rawValue {
                    personDays[index].grants += 1
                    personDays[index].firstGrant = personDays[index].firstGrant ?? time
                    personDays[index].lastGrant = time
                } else {
                    personDays[index].denials += 1
                }
            }
        }
        summary.personDays = personDays.sorted { ($0.day, $0.person.lowercased(), $0.person) < ($1.day, $1.person.lowercased(), $1.person) }
        summary.refusals = refusals.values.sorted { ($1.count, $0.decision, $0.reason) < ($0.count, $1.decision, $1.reason) }
        return summary
    }
}
