import FaceTestSupport
import Foundation
import GRDB
import Testing
@testable import FaceStore

/// The typed decision, reasons and per-frame evidence, against the text a v5 gallery holds.
@Suite struct EventVocabularyTests {
    /// Three rows as a v5 build wrote them; their hashes were computed outside Swift (SHA-256 of
    /// the v5 canonical text), so a change to `canonicalText` for old rows fails here.
    static let v5Rows: [(sql: String, hash: String)] = [
        ("""
         INSERT INTO events (id, kind, time, camera, track_id, decision, person_id, person_name, best_distance, frames_used, evidence,
           latency_ms, prev_hash, hash)
         VALUES (1, 'decision', '2026-11-18T11:06:41.000Z', 'door', 1, 'granted', 1, 'obama', 0.3123, 3, '[0.3,0.31,0.32]', 180.0, ?, ?)
         """, "69cfec63b857b13715483e009459b4dc34f6add936911aa25712abb851c05dc8"),
        ("""
         INSERT INTO events (id, kind, time, camera, track_id, decision, reason, best_distance, frames_used, evidence, detail, prev_hash, hash)
         VALUES (2, 'decision', '2026-11-18T11:06:42.000Z', 'door', 2, 'unknown', 'unknown', 0.612, 5, '[0.61,0.62]',
           'closest enrolled person: obama at 0.598', ?, ?)
         """, "1273b8f72b454a69c89db3f233e4d63ea81c61966ea6b4f0b8cc1c527276996d"),
        ("""
         INSERT INTO events (id, kind, time, camera, reason, person_name, ref_event_id, detail, prev_hash, hash)
         VALUES (3, 'action', '2026-11-18T11:06:43.000Z', 'door', 'ok', 'obama', 1, 'exit 0 in 12 ms', ?, ?)
         """, "9e7e6f0355b3d32eb65928aa43eb145b93b118e0cad083cfad2f41343b1f3bd8"),
    ]

    /// A gallery file at schema v5 holding `v5Rows`.
    static func v5Gallery(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v5: spooled event keys")
        try queue.write { db in
            var prev = AuditEvent.genesisHash
            for row in v5Rows {
                try db.execute(sql: row.sql, arguments: [prev, row.hash])
                prev = row.hash
            }
        }
        try queue.close()
    }

    @Test func aRowWithoutTheNewFieldsKeepsItsV5Text() throws {
        var event = AuditEvent(kind: .decision, time: Date(timeIntervalSince1970: 1_795_000_001), camera: "door")
        event.id = 1
        event.trackID = 1
        event.decision = .granted
        event.personID = 1
        event.personName = "obama"
        event.bestDistance = 0.3123
        event.framesUsed = 3
        event.evidence = "[0.3,0.31,0.32]"
        event.latencyMs = 180
        #expect(event.canonicalText == """
            id=1\nkind="decision"\ntime="2026-11-18T11:06:41.000Z"\ncamera="door"\ntrack_id=1\ndecision="granted"\nreason\nperson_id=1
            person_name="obama"\nbest_distance=0.3123\nrunner_up_name\nrunner_up_distance\nmargin\nframes_used=3
            evidence="[0.3,0.31,0.32]"\nlatency_ms=180.0\nsnapshot_path\nref_event_id\ndetail
            """)
        #expect(event.computedHash(prev: AuditEvent.genesisHash) == Self.v5Rows[0].hash)

        // The new fields, when present, are covered by the hash: an edit to them breaks it.
        var unknown = event
        unknown.decision = .unknown
        unknown.closestName = "obama"
        #expect(unknown.canonicalText.hasSuffix("\ndetail\nclosest_name=\"obama\""))
        var other = unknown
        other.closestName = "biden"
        #expect(other.computedHash(prev: AuditEvent.genesisHash) != unknown.computedHash(prev: AuditEvent.genesisHash))
        unknown.frameEvidence = [FrameEvidence(offsetMs: 0, faceWidth: 52, skipped: [.small])]
        #expect(unknown.canonicalText.hasSuffix("\nclosest_name=\"obama\"\nframes=\"[{\\\"faceWidth\\\":52,\\\"offsetMs\\\":0,\\\"skipped\\\":[\\\"small\\\"]}]\""))
    }

    @Test func aV5GalleryMigratesAndItsEventsStillVerify() throws {
        let dir = try TempDirectory()
        let path = dir.file("faced.db")
        try Self.v5Gallery(path)

        // A reader leaves the file at v5 and reads its events, the new fields absent.
        let reader = try FaceStore(readingAt: path)
        #expect(try reader.verifyChain().checked == 3 && reader.verifyChain().firstBreak == nil)
        let old = try reader.events(EventFilter())
        #expect(old.map(\.decision) == [.granted, .unknown, nil] && old.map(\.reason) == [nil, .denial(.unknown), .action(.ok)])
        #expect(old.allSatisfy { $0.closestName == nil && $0.frames == nil && $0.liveness == nil })
        #expect(try reader.snapshot().count == 0)
        #expect(try reader.events(EventFilter(reason: .action(.ok))).map(\.id) == [3])

        // A writer migrates it; the old rows still verify and new rows with the new fields chain on.
        let store = try FaceStore(path: path, create: false)
        let columns = try store.writer.read { try $0.columns(in: "events").map(\.name) }
        #expect(columns.suffix(3) == ["closest_name", "frames", "liveness"])
        var event = AuditEvent(kind: .decision, time: Date(), camera: "door")
        event.decision = .unknown
        event.reason = .denial(.unknown)
        event.closestName = "obama"
        event.frameEvidence = [FrameEvidence(offsetMs: 0, distance: 0.61234, person: "obama", faceWidth: 120, sharpness: 210.04, yaw: -3.96),
                               FrameEvidence(offsetMs: 120, faceWidth: 52, skipped: [.small, .turned])]
        let stored = try store.append(event)
        let result = try store.verifyChain()
        #expect(result.checked == 4 && result.firstBreak == nil)
        let back = try #require(try store.event(id: stored.id!))
        #expect(back.closestName == "obama" && back.frameEvidence == [
            FrameEvidence(offsetMs: 0, distance: 0.6123, person: "obama", faceWidth: 120, sharpness: 210.0, yaw: -4.0),
            FrameEvidence(offsetMs: 120, faceWidth: 52, skipped: [.small, .turned]),
        ])
        // An edit to a new field is found like any other.
        try store.writer.write { try $0.execute(sql: "UPDATE events SET closest_name = 'biden' WHERE id = 4") }
        #expect(try store.verifyChain().firstBreak?.eventID == 4)
        try store.writer.write { try $0.execute(sql: "UPDATE events SET closest_name = 'obama' WHERE id = 4") }
        #expect(try store.verifyChain().firstBreak == nil)

        // v8: a refusal for liveness with what the surface showed, chained and covered by the hash.
        var refusal = AuditEvent(kind: .decision, time: Date(), camera: "door")
        refusal.decision = .denied
        refusal.reason = .denial(.liveness)
        refusal.livenessEvidence = LivenessEvidence(live: false, steps: 31, moved: 20, fewestSteps: 5, residual: 0.00412,
                                                    minResidual: 0.006, surround: 0.876, maxSurround: 0.4)
        #expect(refusal.liveness == "{\"fewestSteps\":5,\"live\":false,\"maxSurround\":0.40,\"minResidual\":0.0060,\"moved\":20,\"residual\":0.0041,\"steps\":31,\"surround\":0.88}")
        let refused = try store.append(refusal)
        let read = try #require(try store.event(id: refused.id!))
        #expect(read.reason == .denial(.liveness) && read.livenessEvidence?.surround == 0.88 && read.livenessEvidence?.live == false)
        #expect(try store.verifyChain().firstBreak == nil)
        try store.writer.write { try $0.execute(sql: "UPDATE events SET liveness = replace(liveness, 'false', 'true') WHERE id = 5") }
        #expect(try store.verifyChain().firstBreak?.eventID == 5)
        try store.writer.write { try $0.execute(sql: "UPDATE events SET liveness = replace(liveness, 'true', 'false') WHERE id = 5") }

        // Steps that carried their surround, written only by the rule that counts them.
        refusal.livenessEvidence = LivenessEvidence(live: false, steps: 31, moved: 20, fewestSteps: 8, residual: 0.0071, minResidual: 0.006,
                                                    surround: 0.3, maxSurround: 0.4, carried: 3, maxCarried: 2, carriedSurround: 0.8)
        #expect(refusal.liveness == "{\"carried\":3,\"carriedSurround\":0.80,\"fewestSteps\":8,\"live\":false,\"maxCarried\":2,\"maxSurround\":0.40,"
            + "\"minResidual\":0.0060,\"moved\":20,\"residual\":0.0071,\"steps\":31,\"surround\":0.30}")
        let carried = try store.append(refusal)
        let carriedRead = try #require(try store.event(id: carried.id!)?.livenessEvidence)
        #expect(carriedRead.carried == 3 && carriedRead.maxCarried == 2 && carriedRead.carriedSurround == 0.8)
        #expect(try store.verifyChain().firstBreak == nil)
        try store.writer.write { try $0.execute(sql: "UPDATE events SET liveness = replace(liveness, '\"carried\":3', '\"carried\":0') WHERE id = 6") }
        #expect(try store.verifyChain().firstBreak?.eventID == 6)
    }

    @Test func framesAreWrittenAsFixedJSON() {
        let frames = [FrameEvidence(offsetMs: 400, distance: 0.41249, person: "o\"b\u{1}", faceWidth: 88, sharpness: 99.95, yaw: -0.04),
                      FrameEvidence(offsetMs: 500, distance: .nan, faceWidth: 40, skipped: [.blurred])]
        #expect(FrameEvidence.json(frames) == #"[{"distance":0.4125,"faceWidth":88,"offsetMs":400,"person":"o\"b\u0001","sharpness":100.0,"#
            + #""skipped":[],"yaw":0.0},{"distance":null,"faceWidth":40,"offsetMs":500,"skipped":["blurred"]}]"#)
        #expect(FrameEvidence.parse(FrameEvidence.json(frames))?.map(\.person) == ["o\"b\u{1}", nil])
        #expect(FrameEvidence.parse("closest enrolled person: obama") == nil)
    }

    @Test func reasonsOfEveryKindHaveDistinctWords() {
        let words = AuditEvent.Reason.allCases.map(\.rawValue)
        #expect(Set(words).count == words.count, "the text alone must name the case: \(words)")
        for reason in AuditEvent.Reason.allCases { #expect(AuditEvent.Reason(rawValue: reason.rawValue) == reason) }
        #expect(AuditEvent.Reason(rawValue: "camera_lost") == .camera(.lost) && AuditEvent.Reason(rawValue: "granted") == nil)
        #expect("\(AuditEvent.Reason.denial(.outsideSchedule))" == "outside_schedule")
    }

    @Test func filtersTakeTheTypedValues() throws {
        let dir = try TempDirectory()
        let store = try FaceStore(path: dir.file("faced.db"))
        for (decision, reason) in [(AuditEvent.Decision.granted, nil), (.denied, DenialReason.outsideSchedule), (.unknown, .unknown),
                                   (.denied, .ambiguous)] {
            var event = AuditEvent(kind: .decision, time: Date(), camera: "door")
            event.decision = decision
            event.reason = reason.map(AuditEvent.Reason.denial)
            try store.append(event)
        }
        try store.append(AuditEvent.admin(.enroll, subject: "obama", "1 photo", by: AdminActor(uid: 0, user: "root")))
        #expect(try store.events(EventFilter(decision: .denied)).map(\.id) == [2, 4])
        #expect(try store.events(EventFilter(reason: .denial(.unknown))).map(\.id) == [3])
        #expect(try store.events(EventFilter(reason: .admin(.enroll))).map(\.id) == [5])
        #expect(try store.events(EventFilter(decision: .denied, reason: .denial(.ambiguous))).map(\.id) == [4])
    }

    @Test func aRowWithAWordFaceWritesNeverIsABreakNotACrash() throws {
        let dir = try TempDirectory()
        let store = try FaceStore(path: dir.file("faced.db"))
        var event = AuditEvent(kind: .decision, time: Date(), camera: "door")
        event.decision = .granted
        try store.append(event)
        try store.append(event)
        try store.writer.write { try $0.execute(sql: "UPDATE events SET decision = 'let_in' WHERE id = 2") }
        let result = try store.verifyChain()
        #expect(result.checked == 1 && result.firstBreak?.eventID == 2)
        #expect(result.firstBreak?.problem == "it holds decision 'let_in', which faced never writes (edited after it was written)")
    }
}
