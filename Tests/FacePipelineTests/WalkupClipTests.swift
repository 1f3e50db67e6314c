import FaceCapture
import FacePipeline
import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing

/// Issue 12 on real video: `../shared/videos/walkup-entrance-1080p.mjpeg` (4.2 s at 25 fps,
/// people walking out of an entrance toward the camera; see its SOURCES.md), through faced as a
/// child process in media time at the clip's 25 fps. The clip is never copied: the enrollment
/// crops are cut from it here.
@Suite(.enabled(if: Fixtures.sharedVideo("walkup-entrance-1080p.mjpeg") != nil,
                "../shared/videos/walkup-entrance-1080p.mjpeg is absent on this machine"))
struct WalkupClipTests {
    static let clip = Fixtures.sharedVideo("walkup-entrance-1080p.mjpeg")

    /// People who show the camera a face of at least 48 px, counted by eye on frames 0, 10, 20,
    /// 30, 45, 60, 75, 90 and 104 annotated with `facectl annotate --min-face 48`, and checked
    /// against the snapshots of the tracks `faced --min-face 48` logged with nobody enrolled
    /// (8 unknowns: the woman in the red coat, hidden behind the boys for about 2.5 s, comes back
    /// as a track of her own): the boy in the blue hoodie, the red-haired boy, the white-haired
    /// woman in red and black, the woman with the scarf who crosses in front, the woman in the red
    /// coat, the grey-haired man behind them and the man with glasses in the black jacket. The man
    /// walking out on the right at the start shows only his profile; the others are too small.
    static let distinctPeople = 7

    /// Enrolled from frame 60, where both look at the camera: the face nearest each point.
    static let enrolled = [(name: "hoodie", frame: 60, x: 947, y: 738), (name: "whitehair", frame: 60, x: 232, y: 730)]

    /// Frame `index` of the clip, decoded.
    static func frame(_ index: Int, of path: String) async throws -> RGBImage {
        for try await frame in try MJPEGFileSource(path: path).frames() where frame.index == index {
            if case let .jpeg(bytes) = frame.payload { return try ImageDecoder().decode(bytes) }
        }
        throw NoSuchFrame(index: index)
    }

    struct NoSuchFrame: Error { let index: Int }

    /// The face nearest (x, y) in `image`, with half its width around it, as a JPEG to enroll.
    static func crop(_ image: RGBImage, nearX x: Int, y: Int) throws -> [UInt8] {
        let faces = try Fixtures.engine.detect(image.grayscale(), minFace: 48)
        func distance(_ box: PixelRect) -> Int { (box.midX - x) * (box.midX - x) + (box.midY - y) * (box.midY - y) }
        let face = try #require(faces.min { distance($0.box) < distance($1.box) }?.box)
        #expect(distance(face) < face.width * face.width, "no face near (\(x), \(y)): \(faces.map(\.box))")
        let pad = face.width / 2
        let region = try #require(PixelRect(x: face.x - pad, y: face.y - pad, width: face.width + 2 * pad, height: face.height + 2 * pad)
            .intersection(image.bounds))
        return try JPEGEncoder(quality: 95).encode(try image.cropped(to: region))
    }

    /// With liveness = motion (the default) as with it off: both enrolled people get in (their
    /// faces moved as heads do), and nobody is refused for liveness.
    @Test(arguments: [["--liveness", "off"], [String]()])
    func twoEnrolledPeopleAreEachGrantedOnceAndEveryoneIsOneEventOrSo(_ flags: [String]) async throws {
        let clip = try #require(Self.clip)
        let dir = try TempDirectory()
        let db = dir.file("faced.db")
        for person in Self.enrolled {
            let image = try await Self.frame(person.frame, of: clip)
            let photo = try dir.write("\(person.name).jpg", try Self.crop(image, nearX: person.x, y: person.y))
            // Faces in the clip are 50-110 px: the enrollment's 80 px minimum is relaxed to faced's.
            let enroll = try Binaries.run("facectl", ["enroll", person.name, photo, "--largest", "--min-face", "48", "--db", db])
            #expect(enroll.status == 0, "\(enroll.stderr)")
        }
        let faced = try Binaries.run("faced", ["--source", "mjpeg:\(clip)", "--media-time", "--fps", "25", "--min-face", "48", "--db", db,
                                               "--exit-at-end", "--status-file", dir.file("status.json")] + flags)
        #expect(faced.status == 0, "\(faced.stderr)")
        let decisions = try FaceStore(path: db, create: false).events(EventFilter()).filter { $0.kind == .decision }
        let why = decisions.map { "#\($0.id ?? 0) track \($0.trackID ?? 0) \($0.time) \($0.decision?.rawValue ?? "") \($0.personName ?? "") "
            + "\($0.bestDistance.map { String(format: "%.3f", $0) } ?? "-") \($0.detail ?? "")" }.joined(separator: "\n")
        let granted = decisions.filter { $0.decision == .granted }.compactMap(\.personName).sorted()
        #expect(granted == Self.enrolled.map(\.name).sorted(), "each enrolled person once, nobody else:\n\(why)")
        #expect(!decisions.contains { $0.reason == .denial(.liveness) }, "\(why)")
        if flags.isEmpty {
            #expect(decisions.filter { $0.decision == .granted }.allSatisfy { $0.livenessEvidence?.live == true }, "\(why)")
        }
        #expect(abs(decisions.count - Self.distinctPeople) <= 1, "\(decisions.count) decisions for \(Self.distinctPeople) people:\n\(why)")
    }
}
