import FaceCapture
import FaceStore
import Foundation

/// Feeds a source into a pipeline. Live or paced sources go through a one-frame slot, so a
/// busy pipeline skips to the newest frame; an unpaced replay is processed frame by frame.
public struct Runner {
    public let pipeline: Pipeline
    public let source: any FrameSource
    public let latestWins: Bool
    public let report: (AuditEvent) -> Void

    public init(pipeline: Pipeline, source: any FrameSource, latestWins: Bool, report: @escaping (AuditEvent) -> Void) {
        self.pipeline = pipeline
        self.source = source
        self.latestWins = latestWins
        self.report = report
    }

    public func run() async throws {
        if latestWins {
            let slot = LatestFrameSlot()
            let source = source
            let producer = Task {
                defer { Task { await slot.end() } }
                for try await frame in source.frames() { await slot.put(frame) }
            }
            while let frame = await slot.take() {
                for event in try pipeline.process(frame) { report(event) }
            }
            try await producer.value
        } else {
            for try await frame in source.frames() {
                for event in try pipeline.process(frame) { report(event) }
            }
        }
        for event in try await pipeline.finish(at: Date()) { report(event) }
    }
}
