import ArgumentParser
import FaceAccess
import FaceStore
import FaceVision
import Foundation

struct Annotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw what faced sees in a photo: face boxes, landmarks, names and distances.",
        discussion: """
            Writes a JPEG the size of the photo: a box per face (green: a match at --level, red: \
            unknown, yellow: ambiguous), its 5 landmarks, and the closest person's name and distance. \
            Without a gallery every face is unknown.

            Example:
              facectl annotate door.jpg -o door-annotated.jpg
            """)

    @Argument(help: "A JPEG or PNG photo.")
    var photo: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The annotated JPEG to write (mode 0600: it shows faces; only a regular file is replaced).", valueName: "out.jpg"))
    var output: String

    @Option(help: "Security level: relaxed, standard or strict.")
    var level: SecurityLevel = .standard

    @OptionGroup var store: StoreOptions
    @OptionGroup var engineOptions: EngineOptions

    func run() throws {
        do { try SafeFile.checkTarget(output) } catch { throw CommandFailure("\(error)") }
        let snapshot = FileManager.default.fileExists(atPath: store.path) ? try store.openForReading().snapshot() : .empty
        let image = try engineOptions.decoder.decode(contentsOf: photo)
        let identifier = Identifier(engine: try engineOptions.engine(), matcher: Matcher(snapshot: snapshot), level: level)
        let faces = try identifier.identify(image, minFace: engineOptions.minFace, detector: engineOptions.detector)
        try writeJPEG(Pictures.annotate(image, faces), to: output)
        print("\(output): \(faces.count) face\(faces.count == 1 ? "" : "s")" + (faces.isEmpty ? "" : ": " + faces.map(Pictures.label).joined(separator: "; ")))
    }
}

/// Writes a JPEG, mode 0600 (it shows faces), replacing only a regular file: never a device,
/// FIFO or symlink at `path`.
func writeJPEG(_ image: RGBImage, to path: String) throws {
    let bytes = try JPEGEncoder(quality: 92).encode(image)
    do { try SafeFile.write(bytes, to: path, mode: 0o600) }
    catch { throw CommandFailure("\(error)") }
}
