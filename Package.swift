// swift-tools-version: 6.2
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "rehearse",
    // Linux only: the runner reads /proc and the harness is built and tested on Linux. The macOS
    // entry only states the minimum the Swift packages need; rehearse is not tested there.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rehearse", targets: ["rehearse"]),
        // What a Swift program imports to rehearse plans itself: the engine, and the modules its API uses.
        .library(name: "RehearseEngine", targets: ["RehearseEngine"]),
        .library(name: "RehearseCore", targets: ["RehearseCore"]),
        .library(name: "RehearseRunner", targets: ["RehearseRunner"]),
        .library(name: "RehearseStore", targets: ["RehearseStore"]),
        .library(name: "RehearseReports", targets: ["RehearseReports"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // The plan model: steps, graphs, strategies, validation, durations, verdicts. No I/O but reading YAML text.
        .target(
            name: "RehearseCore",
            dependencies: [
                "COpenSSL",
                .product(name: "Yams", package: "Yams"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: upcoming
        ),
        // The system's libcrypto (Debian: libssl-dev), for SHA-256: as SQLite, a library the
        // system has, rather than a BoringSSL compiled from source in every cold build.
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
        // posix_spawn with a process group, default signals and closed descriptors, and pidfds.
        .target(name: "CProcessSpawn"),
        // Running rehearsals: shell commands as processes, the step scheduler, clocks, signals.
        .target(
            name: "RehearseRunner",
            dependencies: [
                "RehearseCore",
                "CProcessSpawn",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: upcoming
        ),
        // The rehearsal history in SQLite: schema migrations, the journal, queries.
        .target(
            name: "RehearseStore",
            dependencies: [
                "RehearseCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        // Turning plans and runs into text for people (and later JSON, JUnit, Markdown, HTML).
        .target(
            name: "RehearseReports",
            dependencies: ["RehearseCore"],
            swiftSettings: upcoming
        ),
        // A whole rehearsal or recovery as a library call: history, runner and journal wired together.
        .target(
            name: "RehearseEngine",
            dependencies: ["RehearseCore", "RehearseRunner", "RehearseStore"],
            swiftSettings: upcoming
        ),
        // The `rehearse` commands: argument parsing, calling the engine, printing, exit codes.
        .target(
            name: "RehearseCLI",
            dependencies: [
                "RehearseEngine",
                "RehearseCore",
                "RehearseRunner",
                "RehearseStore",
                "RehearseReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "rehearse",
            dependencies: [
                "RehearseCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        // Helpers shared by the test targets: temporary folders, the fixtures, the built binary.
        .target(
            name: "RehearseTestSupport",
            dependencies: [
                "RehearseCore",
                "RehearseRunner",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/RehearseTestSupport",
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "RehearseCoreTests",
            dependencies: ["RehearseCore", "RehearseTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "RehearseRunnerTests",
            dependencies: ["RehearseRunner", "RehearseCore", "RehearseTestSupport", "CProcessSpawn"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "RehearseStoreTests",
            dependencies: ["RehearseStore", "RehearseCore", "RehearseTestSupport"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "RehearseEngineTests",
            dependencies: [
                "RehearseEngine", "RehearseCore", "RehearseRunner", "RehearseStore", "RehearseTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: upcoming
        ),
        // Depends only on the modules the library products export, as another Swift package would
        // (no test support, no CLI, no @testable).
        .testTarget(
            name: "RehearseLibraryTests",
            dependencies: ["RehearseEngine", "RehearseCore", "RehearseRunner", "RehearseStore", "RehearseReports"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "RehearseCLITests",
            dependencies: ["RehearseCLI", "RehearseEngine", "RehearseStore", "RehearseCore", "RehearseReports", "RehearseTestSupport"],
            swiftSettings: upcoming
        ),
    ],
    swiftLanguageModes: [.v6]
)
