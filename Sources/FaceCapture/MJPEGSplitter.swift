/// Cuts a byte stream of concatenated JPEGs (what `v4l2-ctl --stream-to` and `ffmpeg -f mjpeg`
/// write) into whole frames. It walks the JPEG markers instead of searching for FFD9, because
/// an Exif thumbnail holds a complete JPEG of its own. Bytes that are not part of a frame are
/// skipped and counted; a frame that breaks off is dropped at the next start of image.
public struct MJPEGSplitter: Sendable {
    private var buffer: [UInt8] = []
    /// Bytes skipped because they belonged to no complete frame.
    public private(set) var skippedBytes = 0
    /// Frames dropped because they were cut short or malformed.
    public private(set) var droppedFrames = 0

    public init() {}

    /// Adds bytes and returns every frame they complete.
    public mutating func push(_ bytes: some Collection<UInt8>) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var frames = [[UInt8]]()
        var consumed = 0
        scan: while true {
            guard let soi = findSOI(from: consumed) else {
                // Keep a possible partial FF D8 at the very end.
                let keep = buffer.count > consumed && buffer.last == 0xFF ? 1 : 0
                skippedBytes += buffer.count - consumed - keep
                consumed = buffer.count - keep
                break
            }
            skippedBytes += soi - consumed
            consumed = soi
            switch frameEnd(from: soi) {
            case let .complete(end):
                frames.append(Array(buffer[soi ..< end]))
                consumed = end
            case .needMore:
                break scan
            case let .broken(at):
                droppedFrames += 1
                skippedBytes += at - soi
                consumed = at
            }
        }
        buffer.removeFirst(consumed)
        return frames
    }

    /// At the end of the stream: whatever is left is an unfinished frame or garbage.
    public mutating func finish() {
        if findSOI(from: 0) != nil { droppedFrames += 1 }
        skippedBytes += buffer.count
        buffer.removeAll()
    }

    private func findSOI(from start: Int) -> Int? {
        var i = start
        while i + 2 < buffer.count {
            if buffer[i] == 0xFF && buffer[i + 1] == 0xD8 && buffer[i + 2] == 0xFF { return i }
            i += 1
        }
        return nil
    }

    private enum End { case complete(Int), needMore, broken(at: Int) }

    private func frameEnd(from soi: Int) -> End {
        let b = buffer
        var i = soi + 2
        while true {
            guard i + 1 < b.count else { return .needMore }
            guard b[i] == 0xFF else { return .broken(at: nextSOI(after: soi)) }
            let marker = b[i + 1]
            switch marker {
            case 0xFF: i += 1  // fill byte
            case 0xD9: return .complete(i + 2)
            case 0xD8: return .broken(at: i)  // a new frame began before this one ended
            case 0x01, 0xD0 ... 0xD7: i += 2
            default:
                guard i + 3 < b.count else { return .needMore }
                let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
                guard length >= 2 else { return .broken(at: nextSOI(after: soi)) }
                i += 2 + length
                if marker == 0xDA {
                    // Entropy-coded data: runs until a marker that is not a stuffed FF00 or a restart.
                    while true {
                        guard i + 1 < b.count else { return .needMore }
                        if b[i] == 0xFF {
                            let next = b[i + 1]
                            if next == 0x00 || (0xD0 ... 0xD7).contains(next) || next == 0xFF { i += next == 0xFF ? 1 : 2; continue }
                            break
                        }
                        i += 1
                    }
                }
            }
        }
    }

    private func nextSOI(after soi: Int) -> Int { findSOI(from: soi + 1) ?? buffer.count }
}
