import FaceCapture
import FacePipeline
import FaceStore
import Foundation

/// A source that notes, per frame, the stamp it carried and the wall time it was handed on:
/// the moment a camera would have delivered it, whether or not the pipeline then took it.
struct RecordingSource: FrameSource {
    let inner: any FrameSource
    let log = SentLog()
    var name: String { inner.name }

    init(_ inner: any FrameSource) { self.inner = inner }

    func frames() -> AsyncThrowingStream<Frame, Error> {
        let pull = Pull(inner.frames().makeAsyncIterator()), log = log
        // Pulled one at a time, so a paced source's pacing reaches the runner unchanged.
        return AsyncThrowingStream(unfolding: {
            guard let frame = try await pull.next() else { return nil }
            log.note(frame)
            return frame
        })
    }

    /// The inner iterator; one consumer only, as the stream has.
    final class Pull: @unchecked Sendable {
        private var iterator: AsyncThrowingStream<Frame, Error>.AsyncIterator
        init(_ iterator: AsyncThrowingStream<Frame, Error>.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> Frame? { try await iterator.next() }
    }

    /// Written on the source's task, read once the run is over (or from the report callback).
    final class SentLog: @unchecked Sendable {
        private let lock = NSLock()
        private let start = ContinuousClock.now
        private var frames = SentFrames()

        /// Seconds since the log was made, on the monotonic clock.
        func now() -> Double { (ContinuousClock.now - start).seconds }

        func note(_ frame: Frame) {
            let at = now()
            lock.withLock { frames.append(index: frame.index, stamp: frame.time, sentAt: at) }
        }

        var sent: SentFrames { lock.withLock { frames } }
    }
}

/// The frames a source sent, in order: each one's index, stamp and wall time of sending
/// (seconds on a monotonic clock).
struct SentFrames: Sendable {
    private(set) var indexes = [Int]()
    private(set) var stamps = [Date]()
    private(set) var sentAt = [Double]()

    var count: Int { indexes.count }

    mutating func append(index: Int, stamp: Date, sentAt at: Double) {
        indexes.append(index)
        stamps.append(stamp)
        sentAt.append(at)
    }

    /// The index of the frame stamped nearest `time`. The audit log keeps milliseconds and
    /// frames are tens of milliseconds apart, so the nearest is the one.
    func index(stampedNear time: Date) -> Int? {
        guard !stamps.isEmpty else { return nil }
        var best = 0
        for i in stamps.indices where abs(stamps[i].timeIntervalSince(time)) < abs(stamps[best].timeIntervalSince(time)) { best = i }
        return indexes[best]
    }

    /// When the frame with `index` was sent; nil if it never was.
    func sentAt(index: Int) -> Double? {
        // Indexes count up from the first one, without holes, for every source facebench replays.
        if let first = indexes.first, index - first >= 0, index - first < indexes.count, indexes[index - first] == index {
            return sentAt[index - first]
        }
        return indexes.firstIndex(of: index).map { sentAt[$0] }
    }
}

/// A visitor in a replay: the frames their face is in view, first to last.
struct ReplayVisit: Codable, Sendable, Hashable {
    var label: String
    var first: Int
    var last: Int
}

/// Decisions matched to the visits of a replay by the frame that decided them: a decision
/// belongs to a visit when its frame falls in [first frame, last frame + rejoin], where a
/// track could still be open. Where such windows overlap, the visit that began last wins:
/// its face is the one in view.
struct VisitDecisions: Sendable, Equatable {
    /// Per visit, the positions in `decidingFrames` of its decisions, in order.
    var perVisit: [[Int]]
    /// Positions of decisions in no visit's window.
    var stray: [Int]

    init(visits: [ReplayVisit], decidingFrames: [Int], rejoinFrames: Int) {
        perVisit = Array(repeating: [], count: visits.count)
        stray = []
        for (n, frame) in decidingFrames.enumerated() {
            // A track that left is decided on the first frame after its rejoin time.
            let owner = visits.indices.last { visits[$0].first <= frame && frame <= visits[$0].last + rejoinFrames + 1 }
            if let owner { perVisit[owner].append(n) } else { stray.append(n) }
        }
    }

    /// Visits nobody decided.
    var undecided: Int { perVisit.filter(\.isEmpty).count }
    /// Decisions after a visit's first: the same visitor decided again (a track broke up).
    var extra: Int { perVisit.map { max(0, $0.count - 1) }.reduce(0, +) }
}

/// Count, p50, p95 and maximum of some latencies, milliseconds.
struct LatencyStats: Codable, Sendable, Equatable {
    var count: Int
    var p50: Double?
    var p95: Double?
    var max: Double?

    init(_ values: [Double]) {
        count = values.count
        p50 = VisitScore.percentile(values, 0.5)
        p95 = VisitScore.percentile(values, 0.95)
        max = values.max()
    }

    var line: String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.0f", $0) } ?? "-" }
        return "\(count): p50 \(f(p50)) ms, p95 \(f(p95)) ms, max \(f(max)) ms"
    }
}
