import Foundation
import GRDB

/// What an administrator did to the gallery; the `reason` of an `admin` event.
public enum AdminAction: String, Codable, Sendable, CaseIterable {
    case enroll
    case enrollFromEvent = "enroll_from_event"
    case remove
    case set
    case group
    case sync
}

/// Who made a change: the process's user, as the kernel knows it.
public struct AdminActor: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    public var user: String

    public init(uid: UInt32, user: String) {
        self.uid = uid
        self.user = user
    }

    /// The effective user of this process; its login name when the password database has one.
    public static var current: AdminActor {
        let uid = geteuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return AdminActor(uid: uid, user: "uid\(uid)") }
        return AdminActor(uid: uid, user: String(cString: name))
    }

    public var description: String { "\(user) (uid \(uid))" }
}

extension AuditEvent {
    /// The chained record of a gallery change: `reason` the action, `personName` whom it
    /// concerns, `detail` who did it and what changed.
    public static func admin(_ action: AdminAction, subject: String?, _ what: String, by actor: AdminActor,
                             at time: Date = Date()) -> AuditEvent {
        var event = AuditEvent(kind: .admin, time: time, camera: "")
        event.reason = .admin(action)
        event.personName = subject
        event.detail = "by \(actor): \(what)"
        return event
    }
}

extension FaceStore {
    /// Appends an admin event inside the caller's write transaction, so the change and its
    /// record commit together or not at all.
    static func logAdmin(_ action: AdminAction, subject: String?, _ what: String, by actor: AdminActor, _ db: Database) throws {
        _ = try appendRow(AuditEvent.admin(action, subject: subject, what, by: actor), db)
    }
}
