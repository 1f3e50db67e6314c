import FaceStore
import FaceTestSupport
import FaceVision
import Foundation
import Testing
@testable import FaceAccess

@Suite struct EnrollmentTests {
    let dir: TempDirectory
    let store: FaceStore
    let enroller: Enroller

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("faced.db"))
        enroller = Enroller(engine: Fixtures.engine, store: store)
    }

    func enroll(_ name: String, _ photos: [String], options: EnrollmentOptions = .init()) throws -> [PreparedPhoto] {
        let checked = try enroller.prepare(photos.map(Fixtures.photo), for: name, options: options)
        let prepared = try checked.map { try $0.result.get() }
        try enroller.commit(prepared, name: name)
        return prepared
    }

    @Test func identifiesObamaAndNotBiden() throws {
        _ = try enroll("obama", ["obama.jpg", "obama2.jpg"])
        let identifier = Identifier(engine: Fixtures.engine, matcher: Matcher(snapshot: try store.snapshot()), level: .standard)
        let obama = try identifier.identify(Fixtures.image("obama3.jpg"), minFace: 80)
        #expect(obama.count == 1)
        #expect(obama[0].verdict == .match && obama[0].result.best?.name == "obama")
        #expect(obama[0].result.best!.distance < SecurityLevel.strict.maxDistance)
        let biden = try identifier.identify(Fixtures.image("biden.jpg"), minFace: 80)
        #expect(biden.count == 1 && biden[0].verdict == .unknown)
    }

    @Test func storesQualityAndProvenance() throws {
        let prepared = try enroll("obama", ["obama.jpg"])
        let stored = try store.templates(ofPersonID: try #require(try store.person(named: "obama")).id!)
        #expect(stored.count == 1)
        #expect(stored[0].sourceName == "obama.jpg")
        #expect(stored[0].sourceSHA256 == Enroller.sha256(try Fixtures.bytes("obama.jpg")))
        #expect(stored[0].sharpness > 10 && (40 ... 220).contains(stored[0].brightness))
        #expect(stored[0].values == prepared[0].face.embedding.values)
    }

    @Test func refusesEachBadPhotoWithItsReasonAndWritesNothing() throws {
        _ = try enroll("obama", ["obama.jpg"])
        let before = try GalleryFingerprint(store)
        let bad = try dir.badPhotos()
        let checked = try enroller.prepare(Array(bad.values) + [Fixtures.photo("obama2.jpg")], for: "someone", options: .init())
        let reasons = Dictionary(uniqueKeysWithValues: checked.map { ($0.path, $0.result) })
        for (kind, path) in bad {
            guard case let .failure(reason)? = reasons[path] else {
                Issue.record("\(kind) photo \(path) was not refused"); continue
            }
            #expect(!reason.description.isEmpty, "\(kind)")
        }
        if case let .failure(r)? = reasons[bad["no face"]!] { #expect(r == .noFace(minFace: 80, detectors: [.hog, .cnn])) }
        if case let .failure(r)? = reasons[bad["empty"]!] { #expect(r.description.contains("empty")) }
        if case let .failure(r)? = reasons[bad["text"]!] { #expect(r.description.contains("not a JPEG or PNG")) }
        if case let .failure(r)? = reasons[bad["truncated"]!] { #expect(r.description.contains("corrupt")) }
        if case let .failure(r)? = reasons[bad["png named jpg"]!] { #expect(r.description.contains("rename it to .png")) }
        if case let .failure(r)? = reasons[bad["missing"]!] { #expect(r.description == "no such file") }
        #expect(try GalleryFingerprint(store) == before)
    }

    @Test func groupPhotoNeedsLargest() throws {
        let refused = try enroller.prepare([Fixtures.photo("t1.jpg")], for: "someone", options: .init())
        guard case let .failure(reason) = refused[0].result else { Issue.record("group photo accepted"); return }
        #expect(reason == .severalFaces(count: 6))
        let taken = try enroller.prepare([Fixtures.photo("t1.jpg")], for: "someone", options: .init(takeLargest: true))
        let face = try taken[0].result.get().face
        let faces = try Fixtures.engine.detect(Fixtures.image("t1.jpg"), minFace: 80)
        #expect(face.detection.box.area == faces.map(\.box.area).max())
    }

    @Test func tooSmallFaceIsRefused() throws {
        let checked = try enroller.prepare([Fixtures.photo("Tom_Hanks_54745.png")], for: "tom", options: .init(minFace: 300))
        guard case let .failure(reason) = checked[0].result else { Issue.record("112 px photo accepted at 300 px"); return }
        #expect(reason == .noFace(minFace: 300, detectors: [.hog, .cnn]) || { if case .quality(let f) = reason { f.check == .size } else { false } }())
    }

    @Test func samePhotoTwiceIsRefused() throws {
        _ = try enroll("obama", ["obama.jpg"])
        let again = try enroller.prepare([Fixtures.photo("obama.jpg")], for: "obama", options: .init())
        if case let .failure(r) = again[0].result { #expect(r == .alreadyEnrolled(person: "obama")) } else { Issue.record("re-enrolled") }
        let twice = try enroller.prepare([Fixtures.photo("obama2.jpg"), Fixtures.photo("obama2.jpg")], for: "obama", options: .init())
        if case let .failure(r) = twice[1].result { #expect(r == .repeatedInCommand(Fixtures.photo("obama2.jpg"))) } else { Issue.record("duplicate accepted") }
    }

    @Test func conflictNamesTheOtherPerson() throws {
        _ = try enroll("obama", ["obama.jpg", "obama2.jpg"])
        let checked = try enroller.prepare([Fixtures.photo("obama3.jpg")], for: "barack", options: .init())
        let conflicts = try enroller.conflicts([try checked[0].result.get()], for: "barack")
        #expect(conflicts.count == 1 && conflicts[0].otherPerson == "obama")
        // The same photo under the same person is not a conflict.
        #expect(try enroller.conflicts([try checked[0].result.get()], for: "obama").isEmpty)
        let biden = try enroller.prepare([Fixtures.photo("biden.jpg")], for: "biden", options: .init())
        #expect(try enroller.conflicts([try biden[0].result.get()], for: "biden").isEmpty)
    }
}
