// swift-tools-version:5.4
// libFuzzer targets, kept out of the main package so `swift build` and `swift test` never see
// them. Build and run with `make fuzz` (or `make fuzz-smoke`) from the repository root: they
// need `-sanitize=fuzzer` and `-parse-as-library` (libFuzzer brings its own main). Tools
// version 5.4 on purpose: from 5.5 SwiftPM links an executable's main under another name
// (<target>_main), which a -parse-as-library target does not define.
import PackageDescription

let package = Package(
    name: "faced-fuzz",
    dependencies: [.package(name: "faced", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "FaceVision", package: "faced")]),
        .executableTarget(name: "FuzzImageDecoder", dependencies: ["FuzzSupport", .product(name: "FaceVision", package: "faced")]),
        .executableTarget(name: "FuzzMJPEGSplitter", dependencies: ["FuzzSupport", .product(name: "FaceCapture", package: "faced")]),
        .executableTarget(name: "FuzzDaemonConfig", dependencies: [.product(name: "FacePipeline", package: "faced")]),
        .executableTarget(name: "FuzzManifest", dependencies: [.product(name: "FaceAccess", package: "faced")]),
    ]
)
