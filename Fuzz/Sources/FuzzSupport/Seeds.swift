import FaceVision
import Foundation

/// Seed inputs made at fuzz time from the fetched photos (Tests/Fixtures is not committed, and
/// whole photos would make every mutation slow): small JPEGs in colour and gray, a few with a
/// crafted frame header, and the small PNG fixture. `LLVMFuzzerInitialize` runs before libFuzzer
/// reads its corpus folder, so a target writes its seeds there when FACED_FUZZ_SEEDS names it.
public enum Seeds {
    public static var folder: String? { ProcessInfo.processInfo.environment["FACED_FUZZ_SEEDS"] }

    static var fixtures: String {
        ProcessInfo.processInfo.environment["FACED_FIXTURES"] ?? FileManager.default.currentDirectoryPath + "/Tests/Fixtures"
    }

    /// Small encoded images: each JPEG fixture shrunk to 48 px wide (colour and gray), plus the
    /// 112x112 PNG as it is.
    public static func images() -> [(name: String, bytes: [UInt8])] {
        var out = [(String, [UInt8])]()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures))?.sorted() ?? []
        for name in names {
            let path = fixtures + "/" + name
            guard let bytes = FileManager.default.contents(atPath: path).map({ [UInt8]($0) }) else { continue }
            if name.hasSuffix(".png") {
                if bytes.count <= 16_384 { out.append((name, bytes)) }
                continue
            }
            guard name.hasSuffix(".jpg"), let image = try? ImageDecoder().decode(bytes, scale: JPEGScale.atLeast(0.125)),
                  let small = try? image.resized(width: 48, height: max(1, image.height * 48 / image.width)) else { continue }
            if let jpeg = try? JPEGEncoder(quality: 60).encode(small) { out.append((name + ".small.jpg", jpeg)) }
            if let gray = try? JPEGEncoder(quality: 40).encode(small.grayscale()) { out.append((name + ".gray.jpg", gray)) }
        }
        if let first = out.first(where: { $0.0.hasSuffix(".small.jpg") })?.1 {
            for (label, edit) in [("12bit", { (j: inout [UInt8], sof: Int) in j[sof + 4] = 12 }),
                                  ("0x0", { (j: inout [UInt8], sof: Int) in for k in 5 ... 8 { j[sof + k] = 0 } }),
                                  ("arith", { (j: inout [UInt8], sof: Int) in j[sof + 1] = 0xC9 })] {
                var crafted = first
                if let sof = frameHeaderOffset(crafted) {
                    edit(&crafted, sof)
                    out.append(("crafted-\(label).jpg", crafted))
                }
            }
        }
        return out
    }

    /// Where the SOF0 marker is, walking segments by their lengths.
    static func frameHeaderOffset(_ jpeg: [UInt8]) -> Int? {
        var i = 2
        while i + 8 < jpeg.count, jpeg[i] == 0xFF {
            if jpeg[i + 1] == 0xC0 { return i }
            i += 2 + (Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3]))
        }
        return nil
    }

    /// Writes `seeds` into the corpus folder, once per name.
    public static func write(_ seeds: [(name: String, bytes: [UInt8])]) {
        guard let folder else { return }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, bytes) in seeds where !FileManager.default.fileExists(atPath: folder + "/seed-" + name) {
            FileManager.default.createFile(atPath: folder + "/seed-" + name, contents: Data(bytes))
        }
    }
}
