import FaceCapture
import FuzzSupport

// The splitter must give the same frames and counts however the stream is cut into pushes.
// The first byte picks the frame cap, the next eight seed the chunk sizes; the rest is the stream.

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMJPEGSplitter(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 9 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let cap = 16 + Int(input[0]) * 64
    var seed: UInt64 = 0
    for i in 1 ..< 9 { seed = seed << 8 | UInt64(input[i]) }
    let stream = input[9...]

    var whole = MJPEGSplitter(maxFrameBytes: cap)
    let once = whole.push(stream)
    whole.finish()

    var random = SplitMix64(state: seed)
    var cut = MJPEGSplitter(maxFrameBytes: cap)
    var frames = [[UInt8]]()
    var i = stream.startIndex
    while i < stream.endIndex {
        let end = min(stream.endIndex, i + 1 + Int(random.next() % 64))
        frames += cut.push(stream[i ..< end])
        i = end
    }
    cut.finish()

    precondition(frames == once, "the frames depend on how the stream was cut")
    precondition(cut.skippedBytes == whole.skippedBytes && cut.droppedFrames == whole.droppedFrames
        && cut.oversizeFrames == whole.oversizeFrames, "the counts depend on how the stream was cut")
    let framed = once.reduce(0) { $0 + $1.count }
    precondition(framed + whole.skippedBytes == stream.count, "bytes neither framed nor counted as skipped")
    for frame in once {
        precondition(frame.count <= cap && frame.starts(with: [0xFF, 0xD8, 0xFF]) && frame.suffix(2) == [0xFF, 0xD9])
    }
    return 0
}

/// Seeds: a few small JPEGs back to back with garbage between, behind the 9 parameter bytes.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let jpegs = Seeds.images().filter { $0.name.hasSuffix(".jpg") }.map(\.bytes)
    guard jpegs.count >= 2 else { return 0 }
    let params: [[UInt8]] = [[255, 0, 0, 0, 0, 0, 0, 0, 1], [8, 1, 2, 3, 4, 5, 6, 7, 8], [40, 9, 9, 9, 9, 9, 9, 9, 9]]
    var seeds = [(name: String, bytes: [UInt8])]()
    for (n, p) in params.enumerated() {
        let stream = p + jpegs[0] + Array("--frame\r\n\r\n".utf8) + jpegs[1] + [0xFF, 0xD8, 0xFF, 0xE0, 0x00] + jpegs[n % jpegs.count]
        seeds.append(("stream\(n).mjpeg", stream))
    }
    Seeds.write(seeds)
    return 0
}
