import FaceVision
import Foundation

extension DaemonOptions {
    /// Keys that choose the camera, the database, the models or the stats timer: they take
    /// effect at the next start, not on SIGHUP.
    public static let restartKeys: Set<String> = [
        "camera.source", "camera.loop", "camera.media_time", "camera.size", "camera.fps", "camera.format", "camera.exposure", "camera.gain",
        "camera.power_line", "database", "models", "status_file", "log.stats_interval",
    ]

    /// The keys whose effective value differs between the two option sets, in config-file order.
    public func changedKeys(from old: DaemonOptions) -> [String] {
        let new = withDefaults(), old = old.withDefaults()
        return ConfigKey.all.filter { $0.show(new) != $0.show(old) }.map(\.name)
    }
}

/// What a config reload did.
public enum ConfigReloadOutcome: Sendable {
    /// The new config is bad: nothing changed.
    case rejected(String)
    /// `applied` keys take effect from the next frame; `atRestart` keys changed in the file but
    /// need a restart. Both empty: the file says what is already in force.
    case accepted(applied: [String], atRestart: [String])
}

/// Re-reads faced's config on SIGHUP. A bad file changes nothing; a good one hands the new
/// pipeline settings to the pipeline, which takes them between two frames.
/// Thread-safe: the signal task reloads, the pipeline's task takes.
public final class ConfigReloader: @unchecked Sendable {
    private let lock = NSLock()
    private let load: @Sendable () throws -> DaemonOptions
    private let started: DaemonOptions
    private var inForce: DaemonOptions
    private var pending: PipelineSettings?
    private let cnnLoaded: Bool

    /// `load` reads the file and lays the command-line flags over it, as at startup.
    public init(started: DaemonOptions, cnnLoaded: Bool, load: @escaping @Sendable () throws -> DaemonOptions) {
        self.started = started
        self.inForce = started
        self.cnnLoaded = cnnLoaded
        self.load = load
    }

    public func reload() -> ConfigReloadOutcome {
        let options: DaemonOptions, setup: DaemonSetup
        do {
            options = try load()
            setup = try options.resolve()
        } catch {
            return .rejected(String(describing: error))
        }
        var settings = setup.settings
        var atRestart = options.changedKeys(from: started).filter(DaemonOptions.restartKeys.contains)
        if settings.detector == .cnn && !cnnLoaded {
            // The CNN model is loaded at startup only; keep detecting with HOG until then.
            settings.detector = .hog
            atRestart.append("detection.detector")
        }
        return lock.withLock {
            let applied = options.changedKeys(from: inForce).filter { !DaemonOptions.restartKeys.contains($0) && !atRestart.contains($0) }
            inForce = options
            if !applied.isEmpty { pending = settings }
            return .accepted(applied: applied, atRestart: atRestart)
        }
    }

    /// The settings of the last accepted reload, once.
    public func takePending() -> PipelineSettings? {
        lock.withLock {
            defer { pending = nil }
            return pending
        }
    }
}
