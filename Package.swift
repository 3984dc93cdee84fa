// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Fetchgate",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "store-api", targets: ["StoreAPI"]),
        .executable(name: "fetchgate", targets: ["fetchgate"]),
    ],
    targets: [
        // System libraries (Debian: libfcgi-dev, libsqlite3-dev, libssl-dev).
        .systemLibrary(name: "CFastCGI", path: "Sources/CFastCGI", pkgConfig: "fcgi"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto"),

        // Layers, one way down.
        .target(name: "FastCGI", dependencies: ["CFastCGI", "HTTPCore"]),
        .target(name: "Crypto", dependencies: ["CCrypto"]),
        .target(name: "HTTPCore", dependencies: ["Crypto"]),
        .target(name: "Store", dependencies: ["CSQLite"]),
        .target(name: "Domain", dependencies: ["Store", "Crypto"]),

        // One thin executable per dialect, plus the admin CLI / supervisor.
        .executableTarget(name: "StoreAPI", dependencies: ["FastCGI", "HTTPCore", "Domain"]),
        .executableTarget(name: "fetchgate", dependencies: ["Domain", "HTTPCore", "Store", "FastCGI"]),

        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore"]),
        .testTarget(name: "StoreTests", dependencies: ["Store"]),
        .testTarget(name: "DomainTests", dependencies: ["Domain", "Store"]),
    ]
)
