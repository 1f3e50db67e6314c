import FaceStore
import Foundation

/// Where the end of a gallery's audit chain is recorded outside the gallery: faced's status
/// file and the journal's FACED_HASH fields. `facectl log verify` compares the chain with them.
public enum ChainWitnesses {
    /// The chain heads faced's status file last published for the gallery at `database` and the
    /// chain `chainRoot` (nil: the chain is empty, so any head of that gallery counts).
    public static func statusFile(_ path: String, database: String, chainRoot: String?) -> [ChainWitness] {
        guard let status = try? DaemonStatus.read(from: path), let named = status.database, sameFile(named, database),
              chainRoot == nil || status.chainRoot == chainRoot else { return [] }
        let heads = status.recentHeads + (status.chainHead.map { [$0] } ?? [])
        return heads.map { ChainWitness(source: "faced's status file \(path)", head: $0) }
    }

    /// Every event of the chain `chainRoot` of the gallery at `database` that faced logged to the
    /// journal lately (its newest 500 entries).
    public static func journal(database: String, chainRoot: String?, journalctl: String = "/usr/bin/journalctl") -> [ChainWitness] {
        guard FileManager.default.isExecutableFile(atPath: journalctl) else { return [] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: journalctl)
        process.arguments = ["--no-pager", "-q", "-o", "json", "-n", "500", "--output-fields=FACED_EVENT_ID,FACED_HASH",
                             "SYSLOG_IDENTIFIER=faced", "FACED_GALLERY=\(absolute(database))"] + (chainRoot.map { ["FACED_CHAIN=\($0)"] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return [] }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return [] }
        var witnesses = [ChainWitness]()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let idText = object["FACED_EVENT_ID"] as? String, let id = Int64(idText),
                  let hash = object["FACED_HASH"] as? String else { continue }
            witnesses.append(ChainWitness(source: "the journal", head: ChainHead(id: id, hash: hash)))
        }
        return witnesses
    }

    /// The path as faced names a gallery in the journal and its status file.
    public static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.standardizedFileURL.resolvingSymlinksInPath().path
    }

    static func sameFile(_ a: String, _ b: String) -> Bool {
        if absolute(a) == absolute(b) { return true }
        guard let x = FileIdentity(path: a), let y = FileIdentity(path: b) else { return false }
        return x == y
    }
}
