import Foundation

/// The *.jpg, *.jpeg and *.png files of a directory, in name order, as frames.
public struct ImageDirectorySource: FrameSource {
    public let path: String
    /// Frames per second, or nil for as fast as the consumer takes them.
    public let fps: Double?
    public let files: [String]

    public var name: String { "dir:\(path)" }

    public init(path: String, fps: Double? = nil) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FrameSourceError.notFound(path) }
        guard isDirectory.boolValue else { throw FrameSourceError.notADirectory(path) }
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        guard !names.isEmpty else { throw FrameSourceError.empty(path) }
        self.path = path
        self.fps = fps
        files = names.map { path + "/" + $0 }
    }

    public func frames() -> AsyncThrowingStream<Frame, Error> {
        let files = files, fps = fps
        return AsyncThrowingStream { continuation in
            let task = Task {
                let start = ContinuousClock.now
                for (i, file) in files.enumerated() {
                    do {
                        try await pace(index: i, fps: fps, start: start)
                        guard let data = FileManager.default.contents(atPath: file) else {
                            throw FrameSourceError.unreadable(file, reason: "cannot read the file")
                        }
                        let bytes = [UInt8](data)
                        let payload: Frame.Payload = file.lowercased().hasSuffix(".png") ? .png(bytes) : .jpeg(bytes)
                        continuation.yield(Frame(index: i, time: Date(), payload: payload))
                    } catch {
                        continuation.finish(throwing: error is CancellationError ? nil : error)
                        return
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
