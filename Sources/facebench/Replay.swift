import ArgumentParser
import FaceCapture
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

struct MakeFrames: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-frames",
        abstract: "Write raw camera frames from photos (and one empty frame), to feed a V4L2 output device.",
        discussion: """
            Writes DIR/empty.yuyv and DIR/NAME.yuyv for each photo NAME.jpg, composed like make-replay.
            Example (vivid loop-back):
              facebench make-frames -o /tmp/frames Tests/Fixtures/obama3.jpg
              v4l2-ctl -d /dev/video1 --stream-out-mmap --stream-from=/tmp/frames/obama3.yuyv --stream-loop
            """)

    @Argument(help: "Photos.")
    var photos: [String]

    @Option(name: .shortAndLong, help: "Output directory.")
    var output: String

    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "1280x720"

    @Option(help: "Raw format: yuyv or rgb (RGB24).")
    var format = "yuyv"

    @Flag(help: "Crop each photo around its face first, so the face fills a third of the frame height.")
    var closeUp = false

    @Option(help: ArgumentHelp("Directory with the dlib models (for --close-up).", valueName: "dir"))
    var models: String?

    func run() throws {
        guard let (w, h) = CameraRequest.parseSize(size) else { throw ValidationError("--size must be WIDTHxHEIGHT with an even width") }
        guard ["yuyv", "rgb"].contains(format) else { throw ValidationError("--format must be yuyv or rgb") }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let builder = ReplayBuilder(width: w, height: h)
        let engine = closeUp ? try FaceEngine(models: FaceModels(directory: FaceModels.resolveDirectory(models))) : nil
        let named: [(String, RGBImage?)] = try [("empty", nil)] + photos.map {
            var photo = try ImageDecoder().decode(contentsOf: $0)
            if let engine {
                guard let face = try engine.detect(photo).first?.box else { throw ValidationError("\($0): no face to crop around") }
                photo = try ReplayBuilder.closeUp(of: photo, face: face)
            }
            return (URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent, photo)
        }
        for (name, photo) in named {
            let frame = try builder.frame(photo)
            let bytes = format == "yuyv" ? try frame.yuyv().bytes : frame.pixels
            let file = "\(output)/\(name).\(format)"
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            print("wrote \(file)")
        }
    }
}
