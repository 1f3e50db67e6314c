import CDlibFace
import Foundation

/// The matrix kernels the embedder runs on. OpenBLAS picks them from the CPU's model as it
/// loads; a model it does not know gets its generic Prescott kernels. Debian 12's OpenBLAS
/// (0.3.21) does this on recent Xeons: an embedding then takes 33 ms instead of 17. Its
/// `OPENBLAS_CORETYPE` variable names the kernels instead, but is read only as the library
/// loads, so a program that finds the generic kernels runs itself again with it set.
public enum BLASKernels {
    /// OpenBLAS's name for the kernels in use ("Haswell", "SkylakeX", "Prescott", ...).
    public static var inUse: String { String(cString: fd_blas_core()) }

    /// The fastest kernels this CPU can run, from its features (nil when none beat the generic ones).
    public static var best: String? { fd_blas_best_core().map { String(cString: $0) } }

    /// What `useBest` did, for the program to say.
    public enum Outcome: Equatable, Sendable {
        /// The kernels in use are not the generic fallback, or nothing better is known: nothing to do.
        case kept(String)
        /// `OPENBLAS_CORETYPE` was set already (by the user or by a run before): left as it is; the kernels in use.
        case chosenByEnvironment(String)
        /// Running again with better kernels failed; the generic ones stay.
        case reexecFailed(kernels: String, errno: Int32)

        /// For a log line.
        public var description: String {
            switch self {
            case let .kept(kernels): "BLAS kernels \(kernels)"
            case let .chosenByEnvironment(kernels): "BLAS kernels \(kernels) (OPENBLAS_CORETYPE)"
            case let .reexecFailed(kernels, error):
                "BLAS kernels \(BLASKernels.inUse): could not run again with \(kernels) (\(String(cString: strerror(error)))); embeddings take about twice as long"
            }
        }
    }

    /// The kernels to ask for, or nil to leave things as they are: only when OpenBLAS fell back to
    /// its generic kernels, nobody chose any, and the CPU can run better ones.
    static func upgrade(inUse: String, best: String?, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, inUse.lowercased() == "prescott", let best,
              best.lowercased() != "prescott" else { return nil }
        return best
    }

    /// Call first thing in `main`: when OpenBLAS fell back to its generic kernels on a CPU with
    /// better ones, runs this same program again (same process, arguments and environment) with
    /// `OPENBLAS_CORETYPE` set, and does not return. Returns what it found otherwise (a program
    /// replaced or deleted since it started, an upgrade, keeps the generic kernels).
    public static func useBest() -> Outcome {
        let environment = ProcessInfo.processInfo.environment
        let inUse = inUse
        // What OpenBLAS made of the name (an unknown one, or an empty one, it replaces).
        if environment["OPENBLAS_CORETYPE"] != nil { return .chosenByEnvironment(inUse) }
        guard let kernels = upgrade(inUse: inUse, best: best, environment: environment) else { return .kept(inUse) }
        // The program's own path, not /proc/self/exe: the process keeps its name (`comm`), which
        // ps, pgrep and `facectl status` go by.
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              FileManager.default.isExecutableFile(atPath: path) else { return .reexecFailed(kernels: kernels, errno: ENOENT) }
        setenv("OPENBLAS_CORETYPE", kernels, 1)
        execv(path, CommandLine.unsafeArgv)
        let error = errno
        unsetenv("OPENBLAS_CORETYPE")
        return .reexecFailed(kernels: kernels, errno: error)
    }
}
