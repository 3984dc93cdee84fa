// swift-tools-version:6.0
import PackageDescription

let package = Package(
    // Linux only (Glibc, copy_file_range, the Debian system libraries below): no platforms line.
    name: "Fetchgate",
    products: [
        .executable(name: "store-api", targets: ["StoreAPI"]),
        .executable(name: "fetchgate", targets: ["fetchgate"]),
        .executable(name: "worker", targets: ["worker"]),
        .executable(name: "files-api", targets: ["FilesAPI"]),
        .executable(name: "fetch-api", targets: ["FetchAPI"]),
        .executable(name: "downloader-api", targets: ["DownloaderAPI"]),
        .executable(name: "jobs-api", targets: ["JobsAPI"]),
    ],
    targets: [
        // System libraries (Debian: libfcgi-dev, libsqlite3-dev, libpq-dev, libssl-dev).
        .systemLibrary(name: "CFastCGI", path: "Sources/CFastCGI", pkgConfig: "fcgi"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3"),
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres", pkgConfig: "libpq"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto"),

        // libcurl's setopt is variadic: a few C lines give Swift fixed-type doorways.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),

        // Layers, one way down.
        .target(name: "FastCGI", dependencies: ["CFastCGI", "HTTPCore", "Support"]),
        // Process plumbing every executable shares: options, logging, signals, subprocesses.
        .target(name: "CSupport"),
        .target(name: "Support", dependencies: ["CSupport"]),
        // Text formats every layer shares, one helper per fact: dates, base64, percent-encoding,
        // hex digits, the email-address rule. No dependencies.
        .target(name: "Formats"),
        .target(name: "Crypto", dependencies: ["CCrypto", "Formats"]),
        .target(name: "HTTPCore", dependencies: ["Crypto", "Formats"]),
        .target(name: "Store", dependencies: ["CSQLite", "CPostgres", "Formats"]),
        .target(name: "Domain", dependencies: ["Store", "Crypto", "Formats"]),
        // Where stored files' bytes live, behind Domain's `FileStore`: local disk or the operator's S3-compatible bucket.
        .target(name: "FileStores", dependencies: ["Domain", "HTTPCore", "Formats", "Buckets", "Outbound", "Crypto"]),
        // Outbound network I/O through libcurl: SMTP delivery and HTTP fetches under the SSRF guard.
        .target(name: "Outbound", dependencies: ["CCurl", "Formats"]),
        // Media inspection: ffprobe under a whitelist and a time limit.
        .target(name: "Media", dependencies: ["Support"]),
        // Bring-your-own buckets: S3-compatible (signed by libcurl), GCS/OSS presets, Azure Blob.
        .target(name: "Buckets", dependencies: ["CCurl", "Crypto", "Outbound", "Formats", "HTTPCore"]),
        // An account's own bucket for the dialects and the worker: saved settings → clients, links, uploads.
        .target(name: "BucketStore", dependencies: ["Buckets", "Domain", "Crypto", "Outbound", "Store"]),
        // The egress guard: a loopback forward proxy for yt-dlp/ffmpeg, every connection under AddressPolicy.
        .target(name: "Egress", dependencies: ["Outbound", "Support"]),

        // The host every dialect runs in: options, process, FastCGI server, the request pipeline
        // (route, authenticate, read input, map failures) and the wire formats.
        .target(name: "Dialect", dependencies: ["FastCGI", "HTTPCore", "Domain", "FileStores", "Store", "Support", "Crypto"]),

        // `/user/s3|gcs|oss|blob|bucket` for the jobs dialect to register (generic over the App).
        .target(name: "BucketEndpoints", dependencies: ["Dialect", "HTTPCore", "Domain", "BucketStore", "Buckets", "Support"]),

        // One thin executable per dialect, plus the admin CLI / supervisor.
        .executableTarget(name: "StoreAPI", dependencies: ["Dialect", "HTTPCore", "Domain"]),
        .executableTarget(name: "FilesAPI", dependencies: ["Dialect", "HTTPCore", "Domain", "Outbound"]),
        // A fetch's status object (one rendering, also for the worker's webhook bodies) and the
        // create input both fetch dialects check.
        .target(name: "FetchViews", dependencies: ["Domain", "Store", "HTTPCore", "Outbound"]),
        // What the media dialects share beyond FetchViews: the metadata source and endpoint (yt-dlp in
        // a request), a fetch's signed download, the playlist seam.
        .target(name: "MediaService", dependencies: ["Dialect", "HTTPCore", "Domain", "Outbound", "FetchViews", "Media", "Egress", "Support"]),
        .executableTarget(name: "FetchAPI", dependencies: ["Dialect", "HTTPCore", "Domain", "Outbound", "FetchViews", "MediaService"]),
        .executableTarget(name: "JobsAPI", dependencies: ["Dialect", "HTTPCore", "Domain", "Outbound", "FetchViews", "MediaService", "BucketStore", "BucketEndpoints", "Support"]),
        .executableTarget(name: "DownloaderAPI", dependencies: ["Dialect", "HTTPCore", "Domain", "Outbound", "FetchViews"]),
        .executableTarget(name: "worker", dependencies: ["Domain", "Store", "FileStores", "Outbound", "Media", "Egress", "FetchViews", "Support",
                                                        "BucketStore", "Buckets", "Crypto"]),
        .executableTarget(name: "fetchgate", dependencies: ["Domain", "HTTPCore", "FastCGI", "Dialect", "Store", "FileStores", "Support", "Crypto", "Media"]),

        // What tests share: the one seeded generator of randomized tests, JSON helpers.
        .target(name: "TestSupport", path: "Tests/TestSupport"),

        // Unit tests (`make unit`): no ffmpeg, no sockets.
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "TestSupport"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"]),
        .testTarget(name: "DomainTests", dependencies: ["Domain", "Store", "FileStores", "TestSupport"]),
        .testTarget(name: "DialectTests", dependencies: ["Dialect", "HTTPCore", "Store"]),
        .testTarget(name: "FileStoresTests", dependencies: ["FileStores", "Domain", "HTTPCore"]),
        .testTarget(name: "OutboundTests", dependencies: ["Outbound"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "TestSupport"]),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "EgressTests", dependencies: ["Egress", "Outbound"]),
        // Each dialect's App.handle called in-process: no socket, no nginx.
        .testTarget(name: "AppTests", dependencies: ["StoreAPI", "FilesAPI", "FetchAPI", "DownloaderAPI", "JobsAPI", "FetchViews", "MediaService", "Media", "Dialect", "HTTPCore", "Domain", "Store", "Support"]),
        // Integration tests (named …IntegrationTests; `make integration`, part of `make test`):
        // ffmpeg/ffprobe processes and TCP servers on loopback.
        .testTarget(name: "OutboundIntegrationTests", dependencies: ["Outbound"]),
        .testTarget(name: "MediaIntegrationTests", dependencies: ["Media", "Support", "TestSupport"]),
        .testTarget(name: "EgressIntegrationTests", dependencies: ["Egress", "Outbound"]),
        // moto in server mode, botocore and azure-storage-blob (the .venv) as servers and oracles.
        // The worker's bucket upload step, in-process against moto and a loopback stand-in.
        .testTarget(name: "WorkerIntegrationTests", dependencies: ["worker", "BucketStore", "Buckets", "Crypto", "Domain", "FileStores",
                                                                   "Media", "Outbound", "Store", "Egress"]),
        .testTarget(name: "BucketsIntegrationTests", dependencies: ["Buckets", "Outbound", "Crypto", "Egress", "HTTPCore",
                                                                     "BucketStore", "BucketEndpoints", "Dialect", "Domain", "Store", "Support", "FileStores"]),
    ]
)
