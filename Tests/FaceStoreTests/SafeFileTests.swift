import FaceStore
import FaceTestSupport
import Foundation
import Testing

/// Output files are replaced whole, with the mode asked for, and never through anything planted.
@Suite struct SafeFileTests {
    let dir: TempDirectory
    init() throws { dir = try TempDirectory() }

    func type(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    /// What the folder holds besides `expected`: a leftover temporary file shows here.
    func strays(_ expected: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !expected.contains($0) }
    }

    @Test func writesWithExactlyTheModeAskedWhateverTheUmask() throws {
        let old = umask(0o022)
        defer { umask(old) }
        let path = dir.file("out.jpg")
        try SafeFile.write([1, 2, 3], to: path, mode: 0o640)
        #expect(mode(path) == 0o640 && FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
        // Replacing a regular file: new content, the new mode.
        chmod(path, 0o666)
        try SafeFile.write([4], to: path, mode: 0o600)
        #expect(mode(path) == 0o600 && FileManager.default.contents(atPath: path) == Data([4]))
        try SafeFile.write(Data(), to: path, mode: 0o644)
        #expect(mode(path) == 0o644 && FileManager.default.contents(atPath: path) == Data())
        #expect(try strays(["out.jpg"]) == [], "no temporary file left")
    }

    @Test func aFIFOIsRefusedAndStaysAFIFO() throws {
        let fifo = dir.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: SafeFileError.notARegularFile(path: fifo, kind: "a FIFO")) { try SafeFile.write([1], to: fifo, mode: 0o600) }
        #expect(type(fifo) == S_IFIFO)
        #expect(try strays(["fifo"]) == [])
        let error = SafeFileError.notARegularFile(path: fifo, kind: "a FIFO")
        #expect(error.description == "\(fifo) is a FIFO, not a regular file: refusing to replace it; choose another path")
    }

    @Test func aSymlinkIsRefusedAndItsTargetUntouched() throws {
        let target = try dir.write("precious", Array("keep me".utf8))
        let link = dir.file("out.jpg")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(throws: SafeFileError.notARegularFile(path: link, kind: "a symbolic link")) { try SafeFile.write([1], to: link, mode: 0o600) }
        #expect(type(link) == S_IFLNK && FileManager.default.contents(atPath: target) == Data("keep me".utf8))
        // A dangling one too: it would create its target.
        let dangling = dir.file("dangling")
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: dir.file("created"))
        #expect(throws: SafeFileError.self) { try SafeFile.write([1], to: dangling, mode: 0o600) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("created")))
        #expect(try strays(["precious", "out.jpg", "dangling"]) == [])
    }

    @Test func aDirectoryAndADeviceAreRefused() throws {
        let folder = dir.file("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        #expect(throws: SafeFileError.notARegularFile(path: folder, kind: "a directory")) { try SafeFile.write([1], to: folder, mode: 0o600) }
        #expect(type(folder) == S_IFDIR)
        // Refused before anything is created next to it, so /dev is not written.
        #expect(throws: SafeFileError.notARegularFile(path: "/dev/null", kind: "a character device")) {
            try SafeFile.write([1], to: "/dev/null", mode: 0o600)
        }
        #expect(type("/dev/null") == S_IFCHR)
    }

    /// The old status file wrote through `path.tmp`: a symlink planted there pointed its write
    /// anywhere. The temporary name is now random and created with O_EXCL.
    @Test func aSymlinkPlantedAtATemporaryNameDoesNotMatter() throws {
        let victim = try dir.write("victim", Array("untouched".utf8))
        let path = dir.file("status.json")
        for planted in [path + ".tmp", dir.file(".status.json.tmp")] {
            try FileManager.default.createSymbolicLink(atPath: planted, withDestinationPath: victim)
        }
        try SafeFile.write(Array("{}".utf8), to: path, mode: 0o640)
        #expect(FileManager.default.contents(atPath: victim) == Data("untouched".utf8))
        #expect(FileManager.default.contents(atPath: path) == Data("{}".utf8) && type(path) == S_IFREG)
        #expect(type(path + ".tmp") == S_IFLNK)
        #expect(try strays(["victim", "status.json", "status.json.tmp", ".status.json.tmp"]) == [])
    }

    @Test func aMissingFolderIsNamed() throws {
        let path = dir.file("no-such-folder/out.jpg")
        #expect {
            try SafeFile.write([1], to: path, mode: 0o600)
        } throws: { error in
            "\(error)" == "cannot write \(path): create a temporary file in \(dir.file("no-such-folder")): No such file or directory"
        }
    }
}
