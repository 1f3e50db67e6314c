import Foundation

/// The *.jpg, *.jpeg and *.png files of a directory, in name order, as frames.
public struct ImageDirectorySource: FrameSource {
    public let path: String
    /// Frames per second, or nil for as fast as the consumer takes them.
    public let fps: Double?
    public let clock: FrameClock
    public let files: [String]

    public var name: String { "dir:\(path)" }

    /// `clock: .media` needs `fps`.
    public init(path: String, fps: Double? = nil, clock: FrameClock = .wall) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw FrameSourceError.notFound(path) }
        guard isDirectory.boolValue else { throw FrameSourceError.notADirectory(path) }
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        guard !names.isEmpty else { throw FrameSourceError.empty(path) }
        if clock == .media && fps == nil { throw FrameSourceError.mediaTimeWithoutRate("dir:\(path)") }
        self.path = path
        self.fps = fps
        self.clock = clock
        files = names.map { path + "/" + $0 }
    }

    /// Pulled one at a time: a file is read only when the consumer asks for the next frame.
    public func frames() -> AsyncThrowingStream<Frame, Error> {
        let files = files, fps = fps, clock = clock, started = Date()
        let cursor = Cursor()
        return AsyncThrowingStream(unfolding: {
            let i = cursor.next()
            guard i < files.count else { return nil }
            if clock == .wall { try await pace(index: i, fps: fps, start: cursor.start) }
            guard let data = FileManager.default.contents(atPath: files[i]) else {
                throw FrameSourceError.unreadable(files[i], reason: "cannot read the file")
            }
            let bytes = [UInt8](data)
            let payload: Frame.Payload = files[i].lowercased().hasSuffix(".png") ? .png(bytes) : .jpeg(bytes)
            return Frame(index: i, time: clock.time(of: i, fps: fps, start: started), payload: payload)
        })
    }
}

/// Position of a pulled stream; only its single consumer touches it.
final class Cursor: @unchecked Sendable {
    let start = ContinuousClock.now
    private var index = 0

    func next() -> Int {
        defer { index += 1 }
        return index
    }
}
