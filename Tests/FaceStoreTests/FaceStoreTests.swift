import FaceTestSupport
import Foundation
import GRDB
import Testing
@testable import FaceStore

@Suite struct FaceStoreTests {
    let dir: TempDirectory
    let store: FaceStore

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("gallery/faced.db"))
    }

    func template(_ seed: Float, sha: String) -> FaceTemplate {
        FaceTemplate(vector: (0 ..< 128).map { Float($0) * 0.001 + seed }, sourceName: "\(sha).jpg", sourceSHA256: sha,
                     box: (10, 20, 100, 110), detectorScore: 1.5, sharpness: 300, brightness: 120)
    }

    @Test func createsTheDirectoryAndUsesWAL() throws {
        #expect(FileManager.default.fileExists(atPath: dir.file("gallery/faced.db")))
        let mode = try store.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let migrations = try store.writer.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(migrations == ["v1: people and templates", "v2: hash-chained events", "v3: access rights", "v4: quality figures and per-person level",
                               "v5: spooled event keys", "v6: closest person and frames of events",
                               "v7: indexes for asking the log", "v8: liveness of people and events"])
    }

    @Test func enrollStoresVectorsExactly() throws {
        let t = template(0.25, sha: "aa")
        let person = try store.enroll(name: "alice", displayName: "Alice A.", templates: [t])
        #expect(person.id != nil && person.displayName == "Alice A.")
        let stored = try store.templates(ofPersonID: person.id!)
        #expect(stored.count == 1)
        #expect(stored[0].values == t.values)
        #expect(stored[0].vector.count == 512)
        #expect(stored[0].boxWidth == 100 && stored[0].sourceSHA256 == "aa")
    }

    @Test func addingToAnExistingPersonKeepsOnePerson() throws {
        try store.enroll(name: "alice", templates: [template(0, sha: "a1")])
        try store.enroll(name: "alice", templates: [template(0.1, sha: "a2")])
        #expect(try store.counts() == (1, 2))
        #expect(try store.person(named: "ALICE")?.name == "alice", "names are case-insensitive")
    }

    @Test func aRepeatedPhotoRollsBackTheWholeEnrollment() throws {
        try store.enroll(name: "alice", templates: [template(0, sha: "a1")])
        let before = try GalleryFingerprint(store)
        #expect(throws: StoreError.duplicatePhoto(person: "alice", source: "a1.jpg")) {
            try store.enroll(name: "alice", templates: [template(0.3, sha: "new"), template(0, sha: "a1")])
        }
        #expect(try GalleryFingerprint(store) == before)
        // A new person whose enrollment fails leaves no person row behind.
        #expect(throws: StoreError.self) {
            try store.enroll(name: "bob", templates: [template(0.3, sha: "b1"), template(0.4, sha: "b1")])
        }
        #expect(try store.person(named: "bob") == nil)
        #expect(try GalleryFingerprint(store) == before)
    }

    @Test(arguments: ["", "has space", "-dash-first", String(repeating: "x", count: 65), "semi;colon"])
    func rejectsBadNames(name: String) throws {
        #expect(throws: StoreError.invalidName(name)) { try store.enroll(name: name, templates: []) }
    }

    @Test func removeCascadesToTemplates() throws {
        try store.enroll(name: "alice", templates: [template(0, sha: "a1"), template(0.1, sha: "a2")])
        try store.enroll(name: "bob", templates: [template(0.5, sha: "b1")])
        #expect(try store.remove(name: "alice") == 2)
        let orphans = try store.writer.read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM templates WHERE person_id NOT IN (SELECT id FROM people)")
        }
        #expect(orphans == 0)
        #expect(try store.counts() == (1, 1))
        #expect(throws: StoreError.personNotFound("alice")) { try store.remove(name: "alice") }
    }

    @Test func generationCountsEveryChange() throws {
        let g0 = try store.generation()
        try store.enroll(name: "alice", templates: [template(0, sha: "a1")])
        let g1 = try store.generation()
        #expect(g1 > g0)
        try store.remove(name: "alice")
        #expect(try store.generation() > g1)
    }

    @Test func snapshotIsContiguousAndOrdered() throws {
        try store.enroll(name: "bob", templates: [template(0.5, sha: "b1")])
        try store.enroll(name: "alice", templates: [template(0, sha: "a1"), template(0.1, sha: "a2")])
        try store.enroll(name: "carol", templates: [])
        let snap = try store.snapshot()
        #expect(snap.count == 3)
        #expect(snap.people.map(\.name) == ["bob", "alice"], "people without templates are left out")
        #expect(snap.owner == [0, 1, 1])
        #expect(snap.vectors.count == 3 * 128)
        #expect(Array(snap.vectors[128 ..< 256]) == template(0, sha: "x").values)
        #expect(snap.generation == (try store.generation()))
    }

    @Test func reopeningKeepsData() throws {
        try store.enroll(name: "alice", templates: [template(0, sha: "a1")])
        let again = try FaceStore(path: store.path, create: false)
        #expect(try again.counts() == (1, 1))
    }

    @Test func missingOrForeignFilesGiveClearErrors() throws {
        #expect(throws: StoreError.noDatabase(dir.file("none.db"))) { try FaceStore(path: dir.file("none.db"), create: false) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("none.db")))
        let text = try dir.write("notes.db", Array(String(repeating: "not a database\n", count: 100).utf8))
        do {
            _ = try FaceStore(path: text)
            Issue.record("a text file opened as a database")
        } catch let StoreError.cannotOpen(path, reason) {
            #expect(path == text)
            #expect(reason.contains("not a database"))
        }
    }

    @Test func resolvesPathFromFlagThenEnvironment() {
        #expect(FaceStore.resolvePath("/a.db", environment: ["FACED_DB": "/b.db"]) == "/a.db")
        #expect(FaceStore.resolvePath(nil, environment: ["FACED_DB": "/b.db"]) == "/b.db")
        #expect(FaceStore.resolvePath(nil, environment: [:]) == FaceStore.defaultPath)
    }
}

@Suite struct AccessRightsStoreTests {
    let dir: TempDirectory
    let store: FaceStore

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("faced.db"))
        let vector = [Float](repeating: 0.1, count: 128)
        for name in ["alice", "bob"] {
            try store.enroll(name: name, templates: [FaceTemplate(vector: vector, sourceName: "\(name).jpg", sourceSHA256: name,
                                                                  box: (0, 0, 100, 100), detectorScore: 1, sharpness: 1, brightness: 1)])
        }
    }

    @Test func snapshotCarriesValidityGroupsAndEffectiveSchedules() throws {
        let until = Date(timeIntervalSince1970: 1_900_000_000)
        try store.update(name: "alice", PersonUpdate(enabled: false, validUntil: .some(until), groups: ["Staff", "lab", "staff"],
                                                     schedules: ["mon-fri 07:00-19:00"]))
        try store.setSchedules(["sat 10:00-12:00"], group: "staff")
        let alice = try #require(try store.snapshot().people.first { $0.name == "alice" })
        #expect(!alice.enabled && alice.validUntil == until && alice.validFrom == nil)
        #expect(alice.groups == ["lab", "staff"])
        #expect(Set(alice.schedules) == ["mon-fri 07:00-19:00", "sat 10:00-12:00"])
        let bob = try #require(try store.snapshot().people.first { $0.name == "bob" })
        #expect(bob.schedules.isEmpty && bob.groups.isEmpty && bob.enabled)
    }

    @Test func clearingAndReplacing() throws {
        try store.update(name: "alice", PersonUpdate(validFrom: .some(Date()), groups: ["staff"], schedules: ["sat 10:00-12:00"]))
        try store.update(name: "alice", PersonUpdate(validFrom: .some(nil), groups: [], schedules: []))
        let alice = try #require(try store.snapshot().people.first { $0.name == "alice" })
        #expect(alice.validFrom == nil && alice.groups.isEmpty && alice.schedules.isEmpty)
    }

    @Test func everyAccessChangeBumpsTheGeneration() throws {
        var g = try store.generation()
        try store.update(name: "alice", PersonUpdate(groups: ["staff"]))
        #expect(try store.generation() > g)
        g = try store.generation()
        try store.setSchedules(["mon 08:00-09:00"], group: "staff")
        #expect(try store.generation() > g)
    }

    @Test func removingAPersonRemovesTheirGroupsAndSchedules() throws {
        try store.update(name: "alice", PersonUpdate(groups: ["staff"], schedules: ["mon 08:00-09:00"]))
        try store.remove(name: "alice")
        let left = try store.writer.read {
            try Int.fetchOne($0, sql: "SELECT (SELECT COUNT(*) FROM person_groups) + (SELECT COUNT(*) FROM schedules)")
        }
        #expect(left == 0)
        #expect(throws: StoreError.personNotFound("alice")) { try store.update(name: "alice", PersonUpdate(enabled: true)) }
    }
}
