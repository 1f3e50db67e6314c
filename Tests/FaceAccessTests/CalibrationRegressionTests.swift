import FaceStore
import FaceTestSupport
import Testing
@testable import FaceAccess

/// Re-measures the security levels on ../shared/faces-dev; guards the thresholds and the engine.
@Suite(.enabled(if: Fixtures.facesDev != nil, "../shared/faces-dev is absent on this machine; calibration not re-measured"))
struct CalibrationRegressionTests {
    @Test func presetsKeepTheirMeasuredErrorRates() throws {
        let (samples, skipped) = try Calibration.loadSamples(from: Fixtures.facesDev!, engine: Fixtures.engine)
        #expect(samples.count >= 260, "faces-dev: \(samples.count) photos with a face; skipped \(skipped)")
        let outcomes = Calibration(samples: samples).evaluate(SecurityLevel.presets)
        let (relaxed, standard, strict) = (outcomes[0], outcomes[1], outcomes[2])
        for o in outcomes {
            #expect(o.misidentified == 0, "\(o.level.name) let someone in as another person")
            print("calibration \(o.level.name): TAR \(o.trueAccepts)/\(o.genuineAttempts), false accepts \(o.falseAccepts)/\(o.impostorAttempts)")
        }
        #expect(standard.falseAccepts == 0 && strict.falseAccepts == 0)
        #expect(relaxed.falseAccepts <= 2)
        #expect(standard.trueAcceptRate >= 0.90)
        #expect(relaxed.trueAcceptRate >= standard.trueAcceptRate && standard.trueAcceptRate >= strict.trueAcceptRate)
    }
}
