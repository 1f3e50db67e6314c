import FaceStore
import FaceTestSupport
import Foundation
import Testing

@Suite struct SQLiteHeaderTests {
    @Test func aClosedGalleryIsWholeAndAPartialCopyOfItIsCut() throws {
        let dir = try TempDirectory()
        let path = dir.file("faced.db")
        let store = try FaceStore(path: path)
        try store.append(AuditEvent(kind: .camera, time: Date(), camera: "door"))
        #expect(store.close())
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let header = try #require(SQLiteHeader(bytes: bytes))
        #expect(header.pageCount > 1 && !header.isCut(fileSize: Int64(bytes.count)))
        // `cp` halfway: the header is there, the pages it counts are not.
        let half = try dir.write("half.db", Array(bytes.prefix(bytes.count / 2)))
        let partial = try #require(SQLiteHeader(path: half))
        #expect(partial.isCut(fileSize: Int64(bytes.count / 2)))
        #expect(!header.isCut(fileSize: Int64(bytes.count) + 1), "longer is not cut")
    }

    @Test func aStaleOrForeignHeaderIsNotTrusted() throws {
        var bytes = [UInt8](repeating: 0, count: 100)
        #expect(SQLiteHeader(bytes: bytes) == nil)
        bytes.replaceSubrange(0 ..< 16, with: Array("SQLite format 3\0".utf8))
        #expect(SQLiteHeader(bytes: bytes) == nil, "page size 0")
        bytes[16] = 0x10 // 4096
        bytes[31] = 2 // 2 pages
        bytes[27] = 7; bytes[95] = 6 // change counter 7, valid-for 6: written by an old SQLite
        let stale = try #require(SQLiteHeader(bytes: bytes))
        #expect(!stale.isCut(fileSize: 100), "a stale count says nothing")
        bytes[95] = 7
        #expect(try #require(SQLiteHeader(bytes: bytes)).isCut(fileSize: 4096))
        #expect(SQLiteHeader(bytes: Array(bytes.prefix(99))) == nil)
    }
}
