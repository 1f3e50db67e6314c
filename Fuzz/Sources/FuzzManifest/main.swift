import FaceAccess

// An access manifest (facectl sync) with whatever text it holds: a ManifestError or a manifest.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? AccessManifest(text: text, file: "/fuzz/access.toml")
    return 0
}
