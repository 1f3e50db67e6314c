import Crypto
import Foundation
import GRDB

/// One row of the audit log. Rows are chained: `hash` is SHA-256 over the row's canonical text
/// and the previous row's hash, so an edited, inserted or deleted row breaks the chain.
public struct AuditEvent: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "events"

    /// What the row records.
    public enum Kind: String, Codable, Sendable {
        /// The decision for one visitor (one track).
        case decision
        /// The result of the door action that a grant ran; `refEventID` names the grant.
        case action
        /// Camera health: lost, restored, persistent dark frames.
        case camera
        /// A change to the gallery by an administrator: who, what, how many (`AdminChange`).
        case admin
    }

    public var id: Int64?
    public var kind: Kind
    /// UTC, ISO 8601 with milliseconds.
    public var time: String
    public var camera: String
    public var trackID: Int64?
    /// Decision rows only.
    public var decision: Decision? {
        get { decisionWord.flatMap(Decision.init(rawValue:)) }
        set { decisionWord = newValue?.rawValue }
    }
    /// Decision rows other than grants, and action, admin and camera rows.
    public var reason: Reason? {
        get { reasonWord.flatMap(Reason.init(rawValue:)) }
        set { reasonWord = newValue?.rawValue }
    }
    /// The words as stored. A word this build does not know (an edited row, a newer build's)
    /// leaves the typed value nil but the row readable: one such row must not hide the log or
    /// stop the daemon. `verifyChain` names it.
    public private(set) var decisionWord: String?
    public private(set) var reasonWord: String?
    /// The person as they were at the time; the person may since have been renamed or removed.
    public var personID: Int64?
    public var personName: String?
    public var bestDistance: Double?
    public var runnerUpName: String?
    public var runnerUpDistance: Double?
    public var margin: Double?
    public var framesUsed: Int?
    /// The distances of the frames the decision rests on, as a JSON array.
    public var evidence: String?
    public var latencyMs: Double?
    public var snapshotPath: String?
    public var refEventID: Int64?
    /// Free text for action and camera rows (exit status, duration, error).
    public var detail: String?
    /// An unknown visitor's closest enrolled person (schema v6).
    public var closestName: String?
    /// The track's evidence window frame by frame, `FrameEvidence.json` (schema v6).
    public var frames: String?
    /// What the face's surface showed against the liveness rule, `LivenessEvidence.json`, on
    /// decisions taken under `liveness = motion` (schema v8).
    public var liveness: String?
    public var prevHash: String = ""
    public var hash: String = ""

    enum CodingKeys: String, CodingKey {
        case id, kind, time, camera, trackID = "track_id", decisionWord = "decision", reasonWord = "reason", personID = "person_id"
        case personName = "person_name", bestDistance = "best_distance", runnerUpName = "runner_up_name"
        case runnerUpDistance = "runner_up_distance", margin, framesUsed = "frames_used", evidence
        case latencyMs = "latency_ms", snapshotPath = "snapshot_path", refEventID = "ref_event_id", detail
        case closestName = "closest_name", frames, liveness
        case prevHash = "prev_hash", hash
    }

    public init(kind: Kind, time: Date, camera: String) {
        self.kind = kind
        self.time = Self.format(time)
        self.camera = camera
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    public static let genesisHash = String(repeating: "0", count: 64)

    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    public var date: Date? { try? Date(time, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }

    /// The `frames` column, typed; nil when absent or unreadable.
    public var frameEvidence: [FrameEvidence]? {
        get { frames.flatMap(FrameEvidence.parse) }
        set { frames = newValue.map(FrameEvidence.json) }
    }

    /// The `liveness` column, typed; nil when absent or unreadable.
    public var livenessEvidence: LivenessEvidence? {
        get { liveness.flatMap(LivenessEvidence.parse) }
        set { liveness = newValue?.json }
    }

    /// Every field but the hashes, in a fixed order, one `name=value` per line; strings escaped
    /// so that no value can forge a line; absent values as a bare name. Fields added after v5
    /// follow, only when present: the text, and so the hash, of an older row stays what it was.
    public var canonicalText: String {
        func s(_ v: String?) -> String? {
            v.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        }
        let fields: [(String, String?)] = [
            ("id", id.map(String.init)), ("kind", s(kind.rawValue)), ("time", s(time)), ("camera", s(camera)),
            ("track_id", trackID.map(String.init)), ("decision", s(decisionWord)), ("reason", s(reasonWord)),
            ("person_id", personID.map(String.init)), ("person_name", s(personName)),
            ("best_distance", bestDistance.map { "\($0)" }), ("runner_up_name", s(runnerUpName)),
            ("runner_up_distance", runnerUpDistance.map { "\($0)" }), ("margin", margin.map { "\($0)" }),
            ("frames_used", framesUsed.map(String.init)), ("evidence", s(evidence)), ("latency_ms", latencyMs.map { "\($0)" }),
            ("snapshot_path", s(snapshotPath)), ("ref_event_id", refEventID.map(String.init)), ("detail", s(detail)),
        ]
        let added: [(String, String?)] = [("closest_name", s(closestName)), ("frames", s(frames)), ("liveness", s(liveness))]
        return (fields.map { name, value in value.map { "\(name)=\($0)" } ?? name }
            + added.compactMap { name, value in value.map { "\(name)=\($0)" } }).joined(separator: "\n")
    }

    public func computedHash(prev: String) -> String {
        SHA256.hash(data: Data((canonicalText + "\nprev=" + prev).utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The last link of the chain as a witness saw it.
public struct ChainHead: Codable, Sendable, Equatable {
    public var id: Int64
    public var hash: String

    public init(id: Int64, hash: String) {
        self.id = id
        self.hash = hash
    }
}

extension AuditEvent {
    /// The event with control characters in its text fields escaped (`\u{1B}` → "\\x1b").
    var sanitised: AuditEvent {
        var e = self
        e.camera = Names.escapingControls(camera)
        for path in [\AuditEvent.personName, \.runnerUpName, \.evidence, \.snapshotPath, \.detail, \.closestName] {
            e[keyPath: path] = e[keyPath: path].map(Names.escapingControls)
        }
        return e
    }
}

/// A chain head recorded outside the database, and where.
public struct ChainWitness: Sendable, Equatable {
    public var source: String
    public var head: ChainHead

    public init(source: String, head: ChainHead) {
        self.source = source
        self.head = head
    }
}

/// The chain's end disagrees with a witness.
public struct TailProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable { case missing, differs }
    public var witness: String
    public var seen: ChainHead
    public var lastInChain: Int64?
    public var kind: Kind

    public var description: String {
        switch kind {
        case .missing:
            let first = (lastInChain ?? 0) + 1
            let range = first == seen.id ? "event \(seen.id) is" : "events \(first)-\(seen.id) are"
            return "\(range) missing: \(witness) saw event \(seen.id), the chain ends at "
                + (lastInChain.map { "event \($0)" } ?? "no event") + " (its tail was deleted)"
        case .differs:
            return "event \(seen.id) is not the one \(witness) saw (hash \(seen.hash.prefix(12))...): the tail was rewritten"
        }
    }
}

/// Where the chain first fails.
public struct ChainBreak: Sendable, Equatable, CustomStringConvertible {
    public var eventID: Int64
    public var problem: String
    public var description: String { "event \(eventID): \(problem)" }
}

extension FaceStore {
    /// Appends an event and its hash link in one transaction; returns the stored row.
    @discardableResult
    public func append(_ event: AuditEvent) throws -> AuditEvent {
        try writer.write { db in try Self.appendRow(event, db) }
    }

    /// Appends events in order in one transaction (an import, a generated log for a benchmark).
    public func append(contentsOf events: [AuditEvent]) throws {
        try writer.write { db in for event in events { _ = try Self.appendRow(event, db) } }
    }

    /// Links `event` to the chain's last row inside the caller's transaction. Control
    /// characters in its text fields are escaped first: no NUL, escape or newline enters the log.
    static func appendRow(_ event: AuditEvent, _ db: Database) throws -> AuditEvent {
        var row = event.sanitised
        let last = try Row.fetchOne(db, sql: "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1")
        row.id = (last?["id"] as Int64? ?? 0) + 1
        row.prevHash = last?["hash"] ?? AuditEvent.genesisHash
        row.hash = row.computedHash(prev: row.prevHash)
        try row.insert(db)
        return row
    }

    /// The newest event's id and hash: what a witness outside the database (the journal, the
    /// status file) keeps to detect a deleted tail.
    public func chainHead() throws -> ChainHead? {
        try reader.read { db in
            try Row.fetchOne(db, sql: "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").map { ChainHead(id: $0["id"], hash: $0["hash"]) }
        }
    }

    /// Names the chain: the hash of its first event, which a restored backup shares and a new
    /// gallery does not. Witnesses of another chain at the same path are not this one's.
    public func chainRoot() throws -> String? { try hash(ofEvent: 1) }

    /// The hash of event `id`, if the chain holds it.
    public func hash(ofEvent id: Int64) throws -> String? {
        try reader.read { db in try String.fetchOne(db, sql: "SELECT hash FROM events WHERE id = ?", arguments: [id]) }
    }

    /// Walks the whole chain in id order; nil when every link holds.
    public func verifyChain() throws -> (checked: Int, firstBreak: ChainBreak?) {
        try reader.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM events ORDER BY id")
            var prev = AuditEvent.genesisHash, checked = 0, expectedID: Int64 = 1
            while let raw = try rows.next() {
                let id: Int64 = raw["id"]
                guard let row = try? AuditEvent(row: raw), (row.decisionWord == nil) == (row.decision == nil),
                      (row.reasonWord == nil) == (row.reason == nil) else {
                    return (checked, ChainBreak(eventID: id, problem: "it holds \(Self.unreadable(raw)), which faced never writes (edited after it was written)"))
                }
                if id != expectedID {
                    return (checked, ChainBreak(eventID: id, problem: "event \(expectedID) is missing before it (deleted?)"))
                }
                if row.prevHash != prev {
                    return (checked, ChainBreak(eventID: id, problem: "its link to the previous event does not match (inserted or removed row)"))
                }
                if row.computedHash(prev: prev) != row.hash {
                    return (checked, ChainBreak(eventID: id, problem: "its content does not match its hash (edited after it was written)"))
                }
                prev = row.hash
                checked += 1
                expectedID += 1
            }
            return (checked, nil)
        }
    }

    /// The field of a row that no `AuditEvent` can hold, in words.
    static func unreadable(_ row: Row) -> String {
        for (column, known) in [("kind", { AuditEvent.Kind(rawValue: $0) != nil }), ("decision", { AuditEvent.Decision(rawValue: $0) != nil }),
                                ("reason", { AuditEvent.Reason(rawValue: $0) != nil })] as [(String, (String) -> Bool)] {
            if let value = row[column] as String?, !known(value) { return "\(column) '\(Names.escapingControls(value))'" }
        }
        return "a value of the wrong type"
    }

    /// Checks the chain's end against heads that witnesses outside the database recorded (the
    /// journal's FACED_HASH fields, faced's status file). A witness that saw an event the chain
    /// no longer holds, or saw it with another hash, means the tail was cut or rewritten.
    public func checkTail(against witnesses: [ChainWitness]) throws -> [TailProblem] {
        let head = try chainHead()
        var problems = [TailProblem]()
        for witness in witnesses {
            let last = head?.id ?? 0
            if witness.head.id > last {
                problems.append(TailProblem(witness: witness.source, seen: witness.head, lastInChain: head?.id, kind: .missing))
            } else if try hash(ofEvent: witness.head.id) != witness.head.hash {
                problems.append(TailProblem(witness: witness.source, seen: witness.head, lastInChain: head?.id, kind: .differs))
            }
        }
        return problems
    }

    public func events(after id: Int64 = 0, limit: Int = 1000) throws -> [AuditEvent] {
        try reader.read { db in
            try AuditEvent.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
        }
    }
}

/// Which audit events to read.
public struct EventFilter: Sendable {
    public var since: Date?
    public var until: Date?
    public var person: String?
    public var decision: AuditEvent.Decision?
    public var reason: AuditEvent.Reason?
    public var camera: String?
    /// Only events with an id above this one (for following the log).
    public var afterID: Int64?
    /// The newest `limit` events that pass, in id order.
    public var limit: Int?

    public init(since: Date? = nil, until: Date? = nil, person: String? = nil, decision: AuditEvent.Decision? = nil,
                reason: AuditEvent.Reason? = nil,
                camera: String? = nil, afterID: Int64? = nil, limit: Int? = nil) {
        self.since = since
        self.until = until
        self.person = person
        self.decision = decision
        self.reason = reason
        self.camera = camera
        self.afterID = afterID
        self.limit = limit
    }
}

extension FaceStore {
    public func events(_ filter: EventFilter) throws -> [AuditEvent] {
        try reader.read { db in
            var request = AuditEvent.all()
            if let since = filter.since { request = request.filter(Column("time") >= AuditEvent.format(since)) }
            if let until = filter.until { request = request.filter(Column("time") < AuditEvent.format(until)) }
            if let person = filter.person { request = request.filter(Column("person_name").collating(.nocase) == person) }
            if let decision = filter.decision { request = request.filter(Column("decision") == decision.rawValue) }
            if let reason = filter.reason { request = request.filter(Column("reason") == reason.rawValue) }
            if let camera = filter.camera { request = request.filter(Column("camera") == camera) }
            if let after = filter.afterID { request = request.filter(Column("id") > after) }
            if let limit = filter.limit {
                return try request.order(Column("id").desc).limit(limit).fetchAll(db).reversed()
            }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    public func event(id: Int64) throws -> AuditEvent? {
        try reader.read { db in try AuditEvent.fetchOne(db, key: id) }
    }
}
