import ArgumentParser
import FacePipeline
import FaceVision
import Foundation

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-replay",
        abstract: "Write an MJPEG replay from photos: empty frames, each photo for a while, empty frames.",
        discussion: "Example:\n  facebench make-replay -o /tmp/door.mjpeg Tests/Fixtures/obama3.jpg Tests/Fixtures/biden.jpg")

    @Argument(help: "Photos, shown in this order.")
    var photos: [String]

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    @Option(help: "Frames per photo.")
    var photoFrames = 15

    @Option(help: "Empty frames before, between and after the photos.")
    var emptyFrames = 10

    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "1280x720"

    func run() async throws {
        let wh = size.split(separator: "x").compactMap { Int($0) }
        guard wh.count == 2, wh[0] >= 64, wh[1] >= 64 else { throw ValidationError("--size must be WIDTHxHEIGHT, e.g. 1280x720") }
        var segments: [ReplayBuilder.Segment] = [.empty(frames: emptyFrames)]
        for path in photos {
            segments += [.photo(try ImageDecoder().decode(contentsOf: path), frames: photoFrames), .empty(frames: emptyFrames)]
        }
        let (bytes, frames) = try ReplayBuilder(width: wh[0], height: wh[1]).build(segments)
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        print("wrote \(output): \(frames) frames of \(size)")
    }
}
