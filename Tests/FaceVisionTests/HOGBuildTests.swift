import Foundation
import Testing
@testable import FaceVision
import FaceTestSupport

/// The detector's AVX2 build must find what the baseline build finds: the same faces, in the same
/// boxes, with scores that differ only by rounding (fused multiply-adds round once, not twice).
@Suite(.enabled(if: FaceEngine.avx2HOGSupported, "this CPU (or build) has no AVX2 and FMA: only the baseline detector runs"))
struct HOGBuildTests {
    @Test func theAVX2BuildIsTheDefaultAndCanBeTurnedOff() throws {
        let engine = try FaceEngine(models: FaceModels(directory: Fixtures.modelsDirectory))
        #expect(engine.hogBuild == .avx2)
        #expect(engine.useHOGBuild(.baseline) == .baseline)
        #expect(engine.hogBuild == .baseline)
        #expect(engine.useHOGBuild(.avx2) == .avx2)
    }

    @Test(arguments: [
        ("t1.jpg", 40), ("t1.jpg", 80), ("t1.jpg", 120), ("obama.jpg", 48), ("obama.jpg", 80), ("obama2.jpg", 60),
        ("obama3.jpg", 80), ("biden.jpg", 48), ("Tom_Hanks_54745.png", 80), ("obama_partial_face.jpg", 48),
        ("obama_partial_face2.jpg", 80), ("32bit.png", 80),
    ])
    func bothBuildsFindTheSameFaces(photo: String, minFace: Int) throws {
        let engine = try FaceEngine(models: FaceModels(directory: Fixtures.modelsDirectory))
        let gray = try Fixtures.image(photo).grayscale()
        // A low threshold brings in the borderline windows too, where a rounding difference would show first.
        let wide = try engine.detect(gray, minFace: minFace, threshold: -0.5)
        engine.useHOGBuild(.baseline)
        let baseline = try engine.detect(gray, minFace: minFace, threshold: -0.5)
        try #require(wide.count == baseline.count, "\(photo) at \(minFace): \(wide.count) faces with AVX2, \(baseline.count) without")
        #expect(!baseline.isEmpty)
        // Both lists are ordered by score; near-equal scores may swap, so match each box.
        for face in baseline {
            let twin = try #require(wide.first { $0.box == face.box }, "\(photo) at \(minFace): \(face.box) missing with AVX2")
            #expect(abs(twin.score - face.score) < 0.001, "\(photo) at \(minFace): score \(twin.score) against \(face.score)")
        }
    }
}

/// On a CPU without AVX2 (`make test` runs this under qemu's Nehalem, which has no AVX at all):
/// the program loads, the baseline build runs, and asking for the AVX2 one changes nothing.
@Suite(.enabled(if: !FaceEngine.avx2HOGSupported, "this CPU runs the AVX2 build; `make test` runs this suite again on an emulated CPU without AVX"))
struct BaselineHOGTests {
    @Test func withoutAVX2TheBaselineBuildFindsTheGroup() throws {
        let engine = try FaceEngine(models: FaceModels(directory: Fixtures.modelsDirectory))
        #expect(engine.hogBuild == .baseline)
        #expect(engine.useHOGBuild(.avx2) == .baseline)
        let faces = try engine.detect(try Fixtures.image("t1.jpg").grayscale(), minFace: 60)
        #expect(faces.count == 6)
    }
}

/// The AVX2 build is there wherever the CPU says it has AVX2 and FMA: a build that lost it (a
/// compiler or library its guard does not take) would otherwise only skip `HOGBuildTests`.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/proc/cpuinfo"), "no /proc/cpuinfo to read the CPU's flags from"))
struct HOGBuildPresenceTests {
    @Test func aCPUWithAVX2AndFMARunsTheAVX2Build() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        #expect(FaceEngine.avx2HOGSupported == (flags.contains("avx2") && flags.contains("fma")), "CPU flags avx2 \(flags.contains("avx2")), fma \(flags.contains("fma"))")
    }
}
