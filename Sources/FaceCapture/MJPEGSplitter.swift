/// Cuts a byte stream of concatenated JPEGs (what `v4l2-ctl --stream-to` and `ffmpeg -f mjpeg`
/// write) into whole frames. It walks the JPEG markers instead of searching for FFD9, because
/// an Exif thumbnail holds a complete JPEG of its own. Bytes that are not part of a frame are
/// skipped and counted; a frame that breaks off is dropped at the next start of image, and a
/// frame that grows past `maxFrameBytes` is dropped without being held in memory.
///
/// The walk keeps its place between pushes, so a frame that arrives in small chunks is still
/// looked at once per byte (segments skipped by their length are not looked at at all).
public struct MJPEGSplitter: Sendable {
    public static let defaultMaxFrameBytes = 16 << 20

    /// Largest frame handed out, in bytes; a larger one is dropped and the stream resynchronised.
    public let maxFrameBytes: Int
    /// Bytes skipped because they belonged to no complete frame.
    public private(set) var skippedBytes = 0
    /// Frames dropped because they were cut short, malformed or too large.
    public private(set) var droppedFrames = 0
    /// Of `droppedFrames`, those dropped for growing past `maxFrameBytes`.
    public private(set) var oversizeFrames = 0

    private var buffer: [UInt8] = []
    /// Where the frame being walked starts in `buffer`; nil while looking for a start of image.
    private var frameStart: Int?
    /// The next byte to look at. It may lie past the buffer's end, when a segment's length
    /// skips bytes that have not arrived yet. Where the walk goes never depends on how the
    /// stream was cut into pushes.
    private var position = 0
    /// True inside entropy-coded data (after SOS), where only markers other than RSTn and
    /// stuffed FF00 end the run.
    private var inScan = false
    /// True once the frame has had a scan (SOS): an end of image before it ends no real frame.
    private var sawScan = false

    public init(maxFrameBytes: Int = MJPEGSplitter.defaultMaxFrameBytes) {
        self.maxFrameBytes = max(4, maxFrameBytes)
    }

    /// Adds bytes and returns every frame they complete.
    public mutating func push(_ bytes: some Collection<UInt8>) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var frames = [[UInt8]]()
        scan: while true {
            guard let start = frameStart else {
                guard seekSOI() else { break scan }
                frameStart = position
                position += 2
                inScan = false
                sawScan = false
                continue
            }
            switch walk(from: start) {
            case .needMore:
                break scan
            case let .complete(end):
                frames.append(Array(buffer[start ..< end]))
                frameStart = nil
                position = end
            case let .broken(resume):
                drop(from: start, resume: resume)
            case let .oversize(resume):
                oversizeFrames += 1
                drop(from: start, resume: resume)
            }
        }
        compact()
        return frames
    }

    /// At the end of the stream: whatever is left is an unfinished frame or garbage.
    public mutating func finish() {
        if let frameStart {
            droppedFrames += 1
            skippedBytes += buffer.count - frameStart
        } else {
            // Bytes before `position` are counted already, even those a dropped frame's last
            // segment claimed that never arrived.
            skippedBytes += buffer.count - position
        }
        buffer.removeAll()
        frameStart = nil
        position = 0
        inScan = false
    }

    /// Advances `position` to the next FF D8 FF, counting what it passes as skipped. False when
    /// the buffer ends first; up to two bytes stay unexamined (a start of image split by a push).
    private mutating func seekSOI() -> Bool {
        guard position < buffer.count else { return false }
        var i = position
        let count = buffer.count
        while i + 2 < count {
            if buffer[i] == 0xFF && buffer[i + 1] == 0xD8 && buffer[i + 2] == 0xFF { break }
            i += 1
        }
        skippedBytes += i - position
        position = i
        return i + 2 < count
    }

    private mutating func drop(from start: Int, resume: Int) {
        droppedFrames += 1
        skippedBytes += resume - start
        frameStart = nil
        position = resume
    }

    private enum Walk { case complete(Int), needMore, broken(resume: Int), oversize(resume: Int) }

    /// Continues the marker walk of the frame at `soi` from `position`, keeping its place.
    private mutating func walk(from soi: Int) -> Walk {
        var i = position
        var inScan = self.inScan
        defer { position = i; self.inScan = inScan }
        let count = buffer.count
        let limit = soi + maxFrameBytes
        while true {
            if inScan {
                // Entropy-coded data: runs until a marker that is not a stuffed FF00, a restart or fill.
                while true {
                    if i > limit { return .oversize(resume: i) }
                    guard i + 1 < count else { return .needMore }
                    if buffer[i] == 0xFF {
                        let next = buffer[i + 1]
                        if next == 0xFF { i += 1; continue }
                        if next == 0x00 || (0xD0 ... 0xD7).contains(next) { i += 2; continue }
                        break
                    }
                    i += 1
                }
                inScan = false
            }
            if i > limit { return .oversize(resume: i) }
            guard i + 1 < count else { return .needMore }
            guard buffer[i] == 0xFF else { return .broken(resume: soi + 1) }
            let marker = buffer[i + 1]
            switch marker {
            case 0xFF: i += 1  // fill byte
            case 0xD9:
                guard sawScan else { return .broken(resume: i + 2) }  // e.g. FF D8 FF D9 in garbage
                guard i + 2 - soi <= maxFrameBytes else { return .oversize(resume: i + 2) }
                return .complete(i + 2)
            case 0xD8: return .broken(resume: i)  // a new frame began before this one ended
            case 0x01, 0xD0 ... 0xD7: i += 2
            default:
                guard i + 3 < count else { return .needMore }
                let length = Int(buffer[i + 2]) << 8 | Int(buffer[i + 3])
                guard length >= 2 else { return .broken(resume: soi + 1) }
                i += 2 + length
                if marker == 0xDA { inScan = true; sawScan = true }
            }
        }
    }

    /// Bytes held for the frame in progress (for tests: it stays near `maxFrameBytes` at most).
    var bufferedBytes: Int { buffer.count }

    /// Drops what is behind the walk: everything before the current frame, or before the
    /// unexamined tail while looking for one.
    private mutating func compact() {
        let keep = frameStart ?? min(position, buffer.count)
        guard keep > 0 else { return }
        buffer.removeFirst(keep)
        position -= keep
        if frameStart != nil { frameStart = 0 }
    }
}
