import CSystemd
import Foundation

/// Tells systemd (Type=notify) how faced is doing: READY=1 once it can decide, WATCHDOG=1 while
/// frames are processed or the camera is being retried, STATUS= for `systemctl status`, and
/// STOPPING=1 on shutdown. Without $NOTIFY_SOCKET every call does nothing.
public final class SystemdNotifier: @unchecked Sendable {
    private let lock = NSLock()
    private var ready = false
    private var lastPing: ContinuousClock.Instant?
    /// Half the watchdog timeout systemd set (WatchdogSec=), or nil without a watchdog.
    public let watchdogInterval: Duration?

    public init() {
        var usec: UInt64 = 0
        watchdogInterval = sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? .microseconds(Int64(usec / 2)) : nil
    }

    public var isActive: Bool { ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil }

    public func send(_ state: String) { _ = sd_notify(0, state) }

    /// READY=1, the first time only.
    public func ready(status: String) {
        let first: Bool = lock.withLock {
            defer { ready = true }
            return !ready
        }
        if first { send("READY=1\nSTATUS=\(status)") }
    }

    /// Proof of progress: call it from the work itself (a processed frame, a camera retry), never
    /// from a timer, so that a hung pipeline stops the pings and systemd restarts faced.
    public func alive() {
        guard let interval = watchdogInterval else { return }
        let due: Bool = lock.withLock {
            let now = ContinuousClock.now
            guard lastPing.map({ now - $0 >= interval }) ?? true else { return false }
            lastPing = now
            return true
        }
        if due { send("WATCHDOG=1") }
    }

    public func status(_ text: String) { send("STATUS=\(text)") }

    public func stopping() { send("STOPPING=1\nSTATUS=stopping") }

    public static func unblockSignals() { csd_unblock_signals() }
}
