import FaceStore
import Foundation

/// What faced is doing now, published as a small JSON file for `facectl status`. It lives on
/// the RuntimeDirectory's tmpfs and is replaced atomically at most once a second, so the SD card
/// of a door box is never written for it.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public struct Decision: Codable, Sendable, Equatable {
        public var id: Int64
        public var time: String
        public var decision: AuditEvent.Decision
        public var reason: AuditEvent.Reason?
        public var person: String?
        public var distance: Double?

        public init?(_ event: AuditEvent) {
            guard event.kind == .decision, let id = event.id, let decision = event.decision else { return nil }
            self.id = id
            time = event.time
            self.decision = decision
            reason = event.reason
            person = event.personName
            distance = event.bestDistance
        }
    }

    /// "running" while faced runs; "stopped" once it has shut down cleanly.
    public var state = "running"
    public var pid: Int32
    public var started: Date
    public var updated: Date
    public var config: String?
    /// The gallery faced writes to (absolute path); a status file names the chain it witnesses.
    public var database: String?
    public var source: String
    public var camera: String
    public var level: String
    /// The liveness mode (off, motion); nil in a status file from before it existed.
    public var liveness: String?
    /// streaming, lost (and retrying), reading (a replay), ended (a replay reached its end).
    public var sourceState = "starting"
    /// The format, size and rate the camera granted.
    public var stream: String?
    public var cameraErrors = 0
    public var lastCameraError: String?
    public var lastCameraErrorTime: Date?
    /// Frames per second processed over the last few seconds.
    public var fps = 0.0
    public var frames = 0
    public var darkFrames = 0
    public var lastFrame: Date?
    /// Frames skipped because they could not be decoded or described, and the last reason.
    public var badFrames = 0
    public var lastBadFrame: String?
    /// Events waiting in the spool for the gallery to take them, and why it does not.
    public var spooledEvents = 0
    public var spoolReason: String?
    /// The newest event faced wrote or saw: `facectl log verify` checks the chain still ends there or later.
    public var chainHead: ChainHead?
    /// The chain's name (its first event's hash) and the last events faced wrote or saw in it:
    /// a tail cut and written over again still differs from these.
    public var chainRoot: String?
    public var recentHeads = [ChainHead]()
    public static let recentHeadCount = 20
    public var galleryPeople = 0
    public var galleryTemplates = 0
    public var galleryGeneration: Int64 = 0
    /// Newest first, at most five.
    public var lastDecisions = [Decision]()

    public init(pid: Int32, started: Date, config: String?, source: String, camera: String, level: String) {
        self.pid = pid
        self.started = started
        updated = started
        self.config = config
        self.source = source
        self.camera = camera
        self.level = level
    }

    /// Another chain is in use (a replaced gallery): what was witnessed of the old one no longer applies.
    public mutating func resetChain(id: String?, head: ChainHead?) {
        chainRoot = id
        chainHead = head
        recentHeads = head.map { [$0] } ?? []
    }

    public static let defaultPath = "/run/faced/status.json"
    /// Names the status file for its readers when no path is given.
    public static let pathVariable = "FACED_STATUS"

    /// The status file a reader reads: the path given, else $FACED_STATUS, else the default.
    public static func readPath(_ given: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        given ?? environment[pathVariable] ?? defaultPath
    }
    public static let recentDecisions = 5

    /// Where faced publishes: systemd's $RUNTIME_DIRECTORY, else /run/faced when it exists
    /// (made by the tmpfiles snippet or the unit). nil: nowhere, e.g. a test run by hand.
    public static func publishPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let dir = environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first { return "\(dir)/status.json" }
        var isDirectory: ObjCBool = false
        let dir = (defaultPath as NSString).deletingLastPathComponent
        return FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) && isDirectory.boolValue
            && access(dir, W_OK) == 0 ? defaultPath : nil
    }

    public mutating func add(_ event: AuditEvent) {
        if let id = event.id, !event.hash.isEmpty {
            let head = ChainHead(id: id, hash: event.hash)
            if id == 1 { chainRoot = event.hash }
            if id > (chainHead?.id ?? 0) { chainHead = head }
            // A second head for an id already seen means the tail was cut and written over:
            // both stay, so `facectl log verify` finds the one the chain no longer holds.
            if !recentHeads.contains(head) { recentHeads.append(head) }
            if recentHeads.count > Self.recentHeadCount { recentHeads.removeFirst(recentHeads.count - Self.recentHeadCount) }
        }
        guard let decision = Decision(event) else { return }
        lastDecisions.insert(decision, at: 0)
        lastDecisions = Array(lastDecisions.prefix(Self.recentDecisions))
    }

    /// Milliseconds: the age of the last frame matters below a second.
    static let timeStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(timeStyle))
        }
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = try? Date(text, strategy: timeStyle) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
            }
            return date
        }
        return decoder
    }()

    public func json() throws -> Data { try Self.encoder.encode(self) }

    /// Replaces the file at `path` atomically: a reader sees the old or the new status, never half.
    /// Mode 0640: the last decisions name people. The temporary file is new (never a planted
    /// symlink) and anything but a regular file at `path` is refused, not replaced.
    public func write(to path: String) throws {
        do { try SafeFile.write(try json() + Data("\n".utf8), to: path, mode: 0o640) }
        catch let error as SafeFileError {
            switch error {
            case let .notARegularFile(_, kind): throw StatusFileError(path: path, message: "is \(kind), not a regular file: not replaced")
            case let .failed(_, step, code): throw StatusFileError(path: path, message: "\(step): \(String(cString: strerror(code)))")
            }
        }
    }

    public static func read(from path: String) throws -> DaemonStatus {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StatusFileError(path: path, message: FileManager.default.fileExists(atPath: path)
                ? "cannot be read; run as root or as a member of group faced" : "no such file")
        }
        do { return try decoder.decode(DaemonStatus.self, from: data) }
        catch { throw StatusFileError(path: path, message: "not a faced status file (\(error))") }
    }
}

public struct StatusFileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "status file \(path): \(message)" }
}

/// How `facectl status` reads a status file: is faced there, stopped, gone, or stuck?
public enum DaemonLiveness: Equatable, Sendable {
    case running
    /// Alive, but the status has not been replaced for this many seconds: hung.
    case notResponding(seconds: Double)
    case stopped
    /// The process is gone without writing "stopped": it crashed or was killed.
    case gone

    public static let staleAfter = 10.0

    public init(_ status: DaemonStatus, now: Date = Date(), processAlive: (Int32) -> Bool = DaemonLiveness.isFaced) {
        if status.state == "stopped" { self = .stopped; return }
        guard processAlive(status.pid) else { self = .gone; return }
        let age = now.timeIntervalSince(status.updated)
        self = age > Self.staleAfter ? .notResponding(seconds: age) : .running
    }

    /// The pid exists and is a faced (not a later process that got the same pid).
    public static func isFaced(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return true }
        return comm.trimmingCharacters(in: .whitespacesAndNewlines) == "faced"
    }
}

extension DaemonStatus {
    /// `facectl status` as text.
    /// Decision times are shown in `display`'s zone, named in the heading over them.
    public func report(_ liveness: DaemonLiveness, now: Date = Date(), display: TimeDisplay = TimeDisplay(zone: .gmt)) -> String {
        func ago(_ date: Date) -> String { Self.duration(now.timeIntervalSince(date)) + " ago" }
        var lines = [String]()
        switch liveness {
        case .running: lines.append("faced: running (pid \(pid), up \(Self.duration(now.timeIntervalSince(started))))")
        case let .notResponding(seconds):
            lines.append("faced: NOT RESPONDING (pid \(pid) is alive, but its status was last updated \(Self.duration(seconds)) ago)")
        case .stopped: lines.append("faced: stopped \(ago(updated)) (was pid \(pid), up \(Self.duration(updated.timeIntervalSince(started))))")
        case .gone: lines.append("faced: not running: pid \(pid) ended without a clean stop (crashed or killed), last seen \(ago(updated))")
        }
        lines.append("source:    \(source) (\(sourceState)\(stream.map { ", \($0)" } ?? ""))")
        var frameLine = String(format: "frames:    %.1f fps, %d processed", fps, frames)
        if darkFrames > 0 { frameLine += ", \(darkFrames) dark" }
        frameLine += lastFrame.map { ", last frame \(ago($0))" } ?? ", no frame yet"
        lines.append(frameLine)
        if badFrames > 0 {
            lines.append("bad frames: \(badFrames) skipped (undecodable)" + (lastBadFrame.map { "; last: \($0)" } ?? ""))
        }
        var cameraLine = "camera:    \"\(camera)\", \(cameraErrors) error\(cameraErrors == 1 ? "" : "s") since start"
        if let error = lastCameraError { cameraLine += "; last: \(error)" + (lastCameraErrorTime.map { " (\(ago($0)))" } ?? "") }
        lines.append(cameraLine)
        lines.append("gallery:   \(galleryPeople) \(galleryPeople == 1 ? "person" : "people"), \(galleryTemplates) templates, generation \(galleryGeneration)")
        if spooledEvents > 0 {
            lines.append("SPOOLED:   \(spooledEvents) event\(spooledEvents == 1 ? "" : "s") wait for the gallery" + (spoolReason.map { ": \($0)" } ?? ""))
        }
        lines.append("policy:    level \(level)" + (self.liveness.map { "; liveness \($0)" } ?? "") + (config.map { "; config \($0)" } ?? ""))
        if lastDecisions.isEmpty {
            lines.append("decisions: none yet")
        } else {
            lines.append("last decisions (\(display.header)):")
            for d in lastDecisions {
                var line = "  #\(d.id)  \(display.string(stored: d.time))  \(d.decision)"
                if let reason = d.reason, reason.rawValue != d.decision.rawValue { line += " (\(reason))" }
                if let person = d.person { line += "  \(person)" }
                if let distance = d.distance { line += String(format: "  %.3f", distance) }
                lines.append(line)
            }
        }
        // The camera name, source and names come from a file: shown escaped, one line each.
        return lines.map(Names.escaped).joined(separator: "\n")
    }

    /// "45 s", "12 min", "3 h 5 min", "2 d 4 h".
    static func duration(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 60 { return s < 10 ? String(format: "%.1f s", s) : "\(Int(s)) s" }
        let minutes = Int(s / 60)
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) h \(minutes % 60) min" }
        return "\(hours / 24) d \(hours % 24) h"
    }

    /// Exit status for `facectl status`: 0 running, 3 not running (as LSB's `status`), 4 not responding.
    public static func exitCode(_ liveness: DaemonLiveness) -> Int32 {
        switch liveness {
        case .running: 0
        case .stopped, .gone: 3
        case .notResponding: 4
        }
    }
}

extension DaemonLiveness {
    public var name: String {
        switch self {
        case .running: "running"
        case .notResponding: "not responding"
        case .stopped: "stopped"
        case .gone: "not running"
        }
    }
}

extension DaemonStatus {
    /// The status file's fields with the reader's view added: `state` as judged now, uptime and
    /// the last frame's age in seconds.
    public func summaryJSON(_ liveness: DaemonLiveness, now: Date = Date()) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: json()) as? [String: Any] ?? [:]
        object["state"] = liveness.name
        let end = liveness == .stopped || liveness == .gone ? updated : now
        object["uptime_seconds"] = (end.timeIntervalSince(started) * 10).rounded() / 10
        object["last_frame_age_seconds"] = lastFrame.map { (now.timeIntervalSince($0) * 10).rounded() / 10 } ?? NSNull()
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
