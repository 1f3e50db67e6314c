import Foundation

/// A file of concatenated JPEG frames, read in chunks; resynchronises on garbage between frames.
public struct MJPEGFileSource: FrameSource {
    public let path: String
    public let fps: Double?
    /// Start over at the end, for demos and tests: the stream never ends.
    public let loop: Bool
    public let clock: FrameClock
    public var name: String { "mjpeg:\(path)" }

    /// `clock: .media` needs `fps`.
    public init(path: String, fps: Double? = nil, loop: Bool = false, clock: FrameClock = .wall) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FrameSourceError.notFound(path) }
        guard !isDirectory.boolValue else { throw FrameSourceError.unreadable(path, reason: "is a directory, not an MJPEG file") }
        if clock == .media && fps == nil { throw FrameSourceError.mediaTimeWithoutRate("mjpeg:\(path)") }
        self.path = path
        self.fps = fps
        self.loop = loop
        self.clock = clock
    }

    /// Pulled one at a time: the file is read in 1 MiB chunks only as frames are asked for.
    public func frames() -> AsyncThrowingStream<Frame, Error> {
        let reader = Reader(path: path, loop: loop)
        let fps = fps, clock = clock, started = Date()
        return AsyncThrowingStream(unfolding: {
            guard let (index, jpeg) = try reader.next() else { return nil }
            if clock == .wall { try await pace(index: index, fps: fps, start: reader.start) }
            return Frame(index: index, time: clock.time(of: index, fps: fps, start: started), payload: .jpeg(jpeg))
        })
    }

    /// The file handle, the splitter and frames cut but not yet handed out; one consumer only.
    final class Reader: @unchecked Sendable {
        let path: String
        let loop: Bool
        let start = ContinuousClock.now
        private var handle: FileHandle?
        private var opened = false
        private var splitter = MJPEGSplitter()
        private var ready = [[UInt8]]()
        private var index = 0

        init(path: String, loop: Bool) {
            self.path = path
            self.loop = loop
        }
        deinit { try? handle?.close() }

        func next() throws -> (Int, [UInt8])? {
            if !opened {
                opened = true
                handle = FileHandle(forReadingAtPath: path)
                if handle == nil { throw FrameSourceError.unreadable(path, reason: "cannot open the file") }
            }
            while ready.isEmpty, let handle {
                guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else {
                    splitter.finish()
                    try? handle.close()
                    self.handle = nil
                    if index == 0 && ready.isEmpty { throw FrameSourceError.unreadable(path, reason: "holds no complete JPEG frame") }
                    if loop && ready.isEmpty {
                        splitter = MJPEGSplitter()
                        self.handle = FileHandle(forReadingAtPath: path)
                        if self.handle == nil { throw FrameSourceError.unreadable(path, reason: "cannot open the file") }
                        continue
                    }
                    break
                }
                ready = splitter.push(chunk)
            }
            guard !ready.isEmpty else { return nil }
            defer { index += 1 }
            return (index, ready.removeFirst())
        }
    }
}
