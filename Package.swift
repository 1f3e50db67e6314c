// swift-tools-version:6.0
import PackageDescription

let dlibCxx: [CXXSetting] = [
    .unsafeFlags(["-O2", "-std=c++17", "-DDLIB_NO_GUI_SUPPORT", "-DNDEBUG"]),
]

let optimised: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "faced",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "facectl", targets: ["facectl"]),
        .executable(name: "faced", targets: ["faced"]),
        .executable(name: "facebench", targets: ["facebench"]),
        .library(name: "FaceVision", targets: ["FaceVision"]),
        .library(name: "FaceCapture", targets: ["FaceCapture"]),
        .library(name: "FaceStore", targets: ["FaceStore"]),
        .library(name: "FaceAccess", targets: ["FaceAccess"]),
        // For the fuzz targets in Fuzz/ (the config parser lives here).
        .library(name: "FacePipeline", targets: ["FacePipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CDlibWideHOG", cxxSettings: dlibCxx),
        .target(
            name: "CDlibFace",
            dependencies: ["CDlibWideHOG"],
            cxxSettings: dlibCxx,
            linkerSettings: [
                .linkedLibrary("dlib"), .linkedLibrary("openblas"), .linkedLibrary("lapack"),
                .linkedLibrary("stdc++"),
            ]
        ),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // Pixel loops run on every frame: optimised in debug and test builds too, or a test
        // that streams a camera inside the emulated VM spends seconds per frame on them.
        .target(name: "Locking"),
        .target(name: "Terminal"),
        .target(name: "FaceVision", dependencies: ["Locking", "CDlibFace", "CTurboJPEG", "CPNG"], swiftSettings: optimised),
        .systemLibrary(name: "CV4L2", pkgConfig: "libv4l2", providers: [.apt(["libv4l-dev"])]),
        .target(name: "FaceCapture", dependencies: ["FaceVision", "CV4L2"], swiftSettings: optimised),
        .target(name: "FaceStore", dependencies: [
            "Locking",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "FaceAccess", dependencies: [
            "FaceVision", "FaceStore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        // What facectl needs of the daemon: the status file's model and the chain's witnesses,
        // without the frame pipeline.
        .target(name: "FacedModel", dependencies: ["FaceStore"]),
        .target(name: "FacePipeline", dependencies: [
            "Locking", "FacedModel", "FaceCapture", "FaceAccess", "FaceVision", "FaceStore", "CSystemd", .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .executableTarget(name: "facectl", dependencies: [
            "FaceVision", "FaceStore", "FaceAccess", "FaceCapture", "FacedModel", "Terminal",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "faced", dependencies: [
            "Locking", "FaceAccess", "FacedModel", "FacePipeline", "FaceCapture", "FaceStore", "FaceVision",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "facebench", dependencies: [
            "FaceVision", "FaceStore", "FaceAccess", "FacedModel", "FacePipeline", "FaceCapture",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "FaceTestSupport", dependencies: ["FaceVision", "FaceStore"], path: "Tests/Support"),
        .testTarget(name: "FaceVisionTests", dependencies: ["FaceVision", "FaceTestSupport"]),
        .testTarget(name: "FaceCaptureTests", dependencies: ["FaceCapture", "FaceVision", "FaceTestSupport"]),
        .testTarget(name: "FacePipelineTests", dependencies: [
            "FacePipeline", "Locking", "FacedModel", "FaceCapture", "FaceAccess", "FaceStore", "FaceVision", "FaceTestSupport", "faced", "facectl", "facebench",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "FaceStoreTests", dependencies: ["Locking", "FaceStore", "FaceTestSupport"]),
        .testTarget(name: "FaceAccessTests", dependencies: ["FaceAccess", "FaceVision", "FaceStore", "FaceTestSupport"]),
        .testTarget(name: "facectlTests", dependencies: ["facectl", "FaceStore", "FaceVision", "FaceAccess", "FaceTestSupport", "Terminal"]),
    ],
    cxxLanguageStandard: .cxx17
)
