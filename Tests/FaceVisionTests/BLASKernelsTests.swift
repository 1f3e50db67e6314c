@testable import FaceVision
import Testing

/// The embedder's matrix kernels: a program runs itself again with better ones only when OpenBLAS
/// fell back to its generic kernels, nobody chose any, and the CPU can run better.
@Suite struct BLASKernelsTests {
    @Test(arguments: [
        ("Prescott", "SkylakeX", [String: String](), "SkylakeX"),
        ("prescott", "Haswell", [:], "Haswell"),
        ("Prescott", nil, [:], nil),
        ("Prescott", "SkylakeX", ["OPENBLAS_CORETYPE": "Haswell"], nil),
        ("Prescott", "SkylakeX", ["OPENBLAS_CORETYPE": ""], nil),
        ("Cooperlake", "SkylakeX", [:], nil),
        ("Haswell", "SkylakeX", [:], nil),
        ("Prescott", "Prescott", [:], nil),
    ] as [(String, String?, [String: String], String?)])
    func upgradesOnlyAGenericFallback(inUse: String, best: String?, environment: [String: String], expected: String?) {
        #expect(BLASKernels.upgrade(inUse: inUse, best: best, environment: environment) == expected)
    }

    /// This test process never runs itself again: what it has is what OpenBLAS chose, a real name.
    @Test func theKernelsInUseHaveAName() {
        #expect(!BLASKernels.inUse.isEmpty)
    }
}
