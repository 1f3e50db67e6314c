import Foundation

/// A file of concatenated JPEG frames, read in chunks; resynchronises on garbage between frames.
public struct MJPEGFileSource: FrameSource {
    public let path: String
    public let fps: Double?
    public var name: String { "mjpeg:\(path)" }

    public init(path: String, fps: Double? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FrameSourceError.notFound(path) }
        guard !isDirectory.boolValue else { throw FrameSourceError.unreadable(path, reason: "is a directory, not an MJPEG file") }
        self.path = path
        self.fps = fps
    }

    public func frames() -> AsyncThrowingStream<Frame, Error> {
        let path = path, fps = fps
        return AsyncThrowingStream { continuation in
            let task = Task {
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    continuation.finish(throwing: FrameSourceError.unreadable(path, reason: "cannot open the file"))
                    return
                }
                defer { try? handle.close() }
                var splitter = MJPEGSplitter()
                var index = 0
                let start = ContinuousClock.now
                do {
                    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                        for jpeg in splitter.push(chunk) {
                            try await pace(index: index, fps: fps, start: start)
                            continuation.yield(Frame(index: index, time: Date(), payload: .jpeg(jpeg)))
                            index += 1
                        }
                    }
                    splitter.finish()
                    if index == 0 { throw FrameSourceError.unreadable(path, reason: "holds no complete JPEG frame") }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error is CancellationError ? nil : error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
