import FacePipeline

// faced.toml as an administrator (or an attacker with write access to it) might write it.
// A ConfigError is the expected answer to bad text; a crash is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDaemonConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let options = try? DaemonOptions(configText: text, file: "fuzz.toml") {
        // What was read must print and read back the same.
        let again = try? DaemonOptions(configText: options.effectiveText, file: "effective.toml")
        precondition(again == options, "effectiveText does not read back as the same options")
    }
    return 0
}
