import Foundation

/// A door's decisions made up from a seed, for benchmarks and for tests that need answers known
/// in advance: each visit knows the local day and wall-clock time it was planned at.
public struct SyntheticAuditLog: Sendable {
    public struct Visit: Sendable {
        /// The local day the visit was planned on, "2026-10-25", and its wall-clock second of that day.
        public var day: String
        public var secondOfDay: Int
        public var time: Date
        public var camera: String
        /// nil for an unknown visitor.
        public var person: String?
        public var decision: AuditEvent.Decision
        public var reason: AuditEvent.Reason?

        public var event: AuditEvent {
            var e = AuditEvent(kind: .decision, time: time, camera: camera)
            e.decision = decision
            e.reason = reason
            e.personName = person
            e.trackID = Int64(secondOfDay)
            e.framesUsed = 5
            e.bestDistance = person == nil ? 0.71 : 0.38
            return e
        }
    }

    public var people: [String]
    public var cameras: [String]
    public var zone: TimeZone

    public init(people: [String], cameras: [String], zone: TimeZone) {
        self.people = people
        self.cameras = cameras
        self.zone = zone
    }

    /// `perDay` visits on each of `days` local days from `firstDay` (year, month, day), in time
    /// order. Every day has a visit in its first and its last minute, so a day cut in UTC rather
    /// than local time shows. Of the visits 60 % are grants, 10 % denials of an enrolled person
    /// (outside_schedule or cooldown), 30 % unknown or ambiguous visitors.
    public func visits(firstDay: (Int, Int, Int), days: Int, perDay: Int, seed: UInt64) -> [Visit] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var random = SeededRandom(seed: seed)
        var visits = [Visit]()
        visits.reserveCapacity(days * perDay)
        let start = calendar.date(from: DateComponents(year: firstDay.0, month: firstDay.1, day: firstDay.2))!
        for d in 0 ..< days {
            let midnight = calendar.startOfDay(for: calendar.date(byAdding: .day, value: d, to: start)!)
            let next = calendar.date(byAdding: .day, value: 1, to: midnight)!
            let length = Int(next.timeIntervalSince(midnight))
            let c = calendar.dateComponents([.year, .month, .day], from: midnight)
            let label = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            // Seconds since local midnight as elapsed time: on a 25-hour day the last ones lie past "24:00" wall time.
            var offsets = (0 ..< max(0, perDay - 2)).map { _ in Int(random.next() % UInt64(length - 120)) + 60 }
            if perDay >= 1 { offsets.append(Int(random.next() % 60)) }
            if perDay >= 2 { offsets.append(length - 1 - Int(random.next() % 60)) }
            for offset in offsets.sorted() {
                let roll = random.next() % 100
                var visit = Visit(day: label, secondOfDay: offset, time: midnight.addingTimeInterval(Double(offset) + 0.25),
                                  camera: cameras[Int(random.next() % UInt64(cameras.count))], person: nil, decision: .unknown, reason: .denial(.unknown))
                let person = people[Int(random.next() % UInt64(people.count))]
                switch roll {
                case ..<60:
                    visit.person = person
                    visit.decision = .granted
                    visit.reason = nil
                case ..<70:
                    visit.person = person
                    visit.decision = .denied
                    visit.reason = roll % 2 == 0 ? .denial(.outsideSchedule) : .denial(.cooldown)
                case ..<95:
                    break
                default:
                    visit.decision = .denied
                    visit.reason = .denial(.ambiguous)
                }
                visits.append(visit)
            }
        }
        return visits
    }
}

/// A seeded random source (SplitMix64): the same seed gives the same log or replay on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
