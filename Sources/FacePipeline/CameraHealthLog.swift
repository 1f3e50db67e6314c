import FaceCapture
import FaceStore
import Foundation

/// Writes camera health into the audit log as `camera` rows, so an outage is on the record next
/// to the decisions: camera_lost, camera_restored, camera_dark, camera_light.
public struct CameraHealthLog: Sendable {
    public let store: FaceStore
    public let camera: String

    public init(store: FaceStore, camera: String) {
        self.store = store
        self.camera = camera
    }

    @discardableResult
    public func append(_ what: CameraChange, at time: Date = Date(), detail: String) throws -> AuditEvent {
        try store.append(Self.event(what, camera: camera, at: time, detail: detail))
    }

    /// The row for a camera health change.
    public static func event(_ what: CameraChange, camera: String, at time: Date, detail: String) -> AuditEvent {
        var event = AuditEvent(kind: .camera, time: time, camera: camera)
        event.reason = .camera(what)
        event.detail = detail
        return event
    }

    /// The row for a health change, if it belongs in the log (losses and returns do; the first
    /// start and control notes go to the daemon's own log only).
    public static func event(for health: CameraHealth, camera: String, at time: Date = Date()) -> AuditEvent? {
        switch health {
        case let .lost(reason): event(.lost, camera: camera, at: time, detail: reason)
        case let .restored(format, downtime):
            event(.restored, camera: camera, at: time, detail: String(format: "streaming %@ again after %.1f s", format.description, downtime))
        case .streaming, .controls, .retrying: nil
        }
    }

    /// Appends the row for a health change, if it belongs in the log.
    @discardableResult
    public func record(_ health: CameraHealth, at time: Date = Date()) throws -> AuditEvent? {
        try Self.event(for: health, camera: camera, at: time).map { try store.append($0) }
    }
}
