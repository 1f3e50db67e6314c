import CSystemd
import FaceStore
import Foundation
import Logging

/// faced's swift-log backend. Under systemd, each line is a journal entry with its metadata as
/// FACED_* fields (`journalctl FACED_DECISION=denied`); elsewhere a plain "faced: ..." line on stderr.
public struct FacedLogHandler: LogHandler {
    public enum Sink: Sendable, Equatable {
        case journal
        case stderr
    }

    public let sink: Sink
    public let identifier: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(identifier: String, sink: Sink = Self.detectedSink()) {
        self.identifier = identifier
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The journal when stderr is the stream systemd connected to it: $JOURNAL_STREAM holds that
    /// stream's device and inode, and a redirected stderr no longer matches them.
    public static func detectedSink(environment: [String: String] = ProcessInfo.processInfo.environment) -> Sink {
        guard let stream = environment["JOURNAL_STREAM"] else { return .stderr }
        let parts = stream.split(separator: ":").compactMap { UInt64($0) }
        var info = stat()
        guard parts.count == 2, fstat(STDERR_FILENO, &info) == 0 else { return .stderr }
        return UInt64(info.st_dev) == parts[0] && UInt64(info.st_ino) == parts[1] ? .journal : .stderr
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let own = event.metadata { fields.merge(own) { $1 } }
        if sink == .journal, Self.sendToJournal(Self.journalFields(event.message.description, level: event.level, metadata: fields,
                                                                    identifier: identifier)) {
            return
        }
        FileHandle.standardError.write(Data("\(identifier): \(event.message)\n".utf8))
    }

    /// One journal entry: MESSAGE, PRIORITY (syslog numbers), SYSLOG_IDENTIFIER, and each metadata
    /// key as FACED_<KEY> in upper case.
    public static func journalFields(_ message: String, level: Logger.Level, metadata: Logger.Metadata, identifier: String) -> [String] {
        var fields = ["MESSAGE=\(message)", "PRIORITY=\(priority(level))", "SYSLOG_IDENTIFIER=\(identifier)"]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            fields.append("\(fieldName(key))=\(value)")
        }
        return fields
    }

    /// "event_id" → FACED_EVENT_ID. Journal field names are upper-case letters, digits and underscores.
    public static func fieldName(_ key: String) -> String {
        "FACED_" + String(key.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// False when the journal did not take it (journald gone): the caller falls back to stderr.
    static func sendToJournal(_ fields: [String]) -> Bool {
        // One buffer for all fields, so every iovec points into memory that lives through the call.
        var bytes = [UInt8](), spans = [(offset: Int, count: Int)]()
        for field in fields {
            spans.append((bytes.count, field.utf8.count))
            bytes += field.utf8
        }
        return bytes.withUnsafeMutableBytes { raw in
            let vectors = spans.map { iovec(iov_base: raw.baseAddress! + $0.offset, iov_len: $0.count) }
            return sd_journal_sendv(vectors, Int32(vectors.count)) >= 0
        }
    }
}

extension AuditEvent {
    /// The event as one log line: "event 7: denied (outside_schedule) alice, distance 0.412, 3 frames, 180 ms".
    /// An event still in the spool has no id yet: "event (spooled)".
    public var logLine: String {
        if kind == .action {
            return "event \(id.map(String.init) ?? "(spooled)"): door action for #\(refEventID.map(String.init) ?? "(spooled)") \(personName ?? ""): \(detail ?? "")"
        }
        var line = "event \(id.map(String.init) ?? "(spooled)"): \(decision?.rawValue ?? reason?.rawValue ?? kind.rawValue)"
        if let reason, reason.rawValue != decision?.rawValue { line += " (\(reason.rawValue))" }
        if let personName { line += " \(personName)" }
        if let bestDistance { line += String(format: ", distance %.3f", bestDistance) }
        if let framesUsed { line += ", \(framesUsed) frames" }
        if let latencyMs { line += String(format: ", %.0f ms", latencyMs) }
        if kind == .camera, let detail { line += ": \(detail)" }
        return line
    }

    /// The event's fields for the journal: FACED_EVENT_ID, FACED_KIND, FACED_CAMERA, and where set
    /// FACED_DECISION, FACED_REASON, FACED_PERSON, FACED_DISTANCE, FACED_FRAMES.
    public var logMetadata: Logger.Metadata {
        var fields: Logger.Metadata = ["kind": "\(kind.rawValue)", "camera": "\(camera)"]
        if let id {
            fields["event_id"] = "\(id)"
            // A witness outside the database: `facectl log verify` finds a deleted tail by it.
            fields["hash"] = "\(hash)"
        }
        if let decision { fields["decision"] = "\(decision.rawValue)" }
        if let reason { fields["reason"] = "\(reason.rawValue)" }
        if let personName { fields["person"] = "\(personName)" }
        if let bestDistance { fields["distance"] = "\(String(format: "%.3f", bestDistance))" }
        if let framesUsed { fields["frames"] = "\(framesUsed)" }
        return fields
    }

    /// Decisions stand out in `journalctl -p notice`; camera trouble and failed door actions are warnings.
    public var logLevel: Logger.Level {
        switch kind {
        case .decision: .notice
        case .camera: reason == .camera(.lost) || reason == .camera(.dark) ? .warning : .info
        case .action: reason == .action(.ok) ? .info : .warning
        case .admin: .notice
        }
    }
}
