// swift-tools-version:5.4
// libFuzzer harnesses for the request-body parsers in HTTPCore, the egress guard's head reader and
// Media's yt-dlp output reader, the jobs dialect's option text,
// Crypto's sealed-secret reader (SecretBox.open) and its secrets-file reader (SharedSecrets.parse),
// storage URLs / credentials files (FileStores' S3Location), the PostgreSQL driver's SQL text work,
// the Basic header, signed links, Range, download names and ffprobe's JSON.
//
// Keep tools-version 5.4: newer tools rename an executable target's entry point,
// and the link against libFuzzer's `main` then fails.
//
// HTTPCore, Formats, Crypto and CCrypto are symlinks to the real ../Sources directories,
// so the fuzzers always build the current sources without copying them (and
// without loading the root package, whose other targets are irrelevant here).
//
// Build (from Fuzz/):
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// or just ./run.sh FuzzXML 60
import PackageDescription

let package = Package(
    name: "FetchgateFuzz",
    targets: [
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto"),
        .target(name: "Formats"),
        .target(name: "Crypto", dependencies: ["CCrypto", "Formats"]),
        .target(name: "HTTPCore", dependencies: ["Crypto", "Formats"]),

        .executableTarget(name: "FuzzXML", dependencies: ["HTTPCore"]),
        .executableTarget(name: "FuzzForm", dependencies: ["HTTPCore"]),
        .executableTarget(name: "FuzzMultipart", dependencies: ["HTTPCore"]),
        .executableTarget(name: "FuzzHeaders", dependencies: ["HTTPCore"]),
        // The Accept header reader (which store replies get the stylesheet instruction).
        .executableTarget(name: "FuzzAccept", dependencies: ["HTTPCore"]),

        // The egress guard's request-head reader: its one standard-library-only file, linked from
        // ../Sources/Egress (the rest of Egress needs libcurl and the Outbound module).
        .target(name: "EgressHead"),
        .executableTarget(name: "FuzzProxyHead", dependencies: ["EgressHead"]),
        .executableTarget(name: "FuzzJSON", dependencies: ["HTTPCore"]),
        // yt-dlp's output as Media's runner reads it (YTDLPTypes/YTDLPOutput are symlinks; Foundation only).
        .executableTarget(name: "FuzzYTDLP"),
        // The jobs dialect's option text (OptionText.swift is a symlink into Sources/JobsAPI; standard library only).
        .executableTarget(name: "FuzzJobOptions"),
        // Sealed bucket secrets as Crypto's SecretBox opens them.
        .executableTarget(name: "FuzzSecretBox", dependencies: ["Crypto"]),
        // The nodes' shared secrets file as Crypto's SharedSecrets reads it.
        .executableTarget(name: "FuzzSecrets", dependencies: ["Crypto"]),
        // Storage URLs (s3://…) and bucket credentials files (S3Location.swift is a symlink into Sources/FileStores).
        .executableTarget(name: "FuzzStorageURL", dependencies: ["Formats"]),
        // The PostgreSQL driver's SQL text work (PostgresSQL.swift is a symlink into Sources/Store; standard library only).
        .executableTarget(name: "FuzzPostgresSQL"),
        // The Authorization: Basic reader (HTTPCore Credentials), with its round trip.
        .executableTarget(name: "FuzzBasic", dependencies: ["HTTPCore"]),
        // Signed download links (HTTPCore URLSigner), checked the way nginx's secure_link checks them.
        .executableTarget(name: "FuzzSignedURL", dependencies: ["HTTPCore", "Crypto"]),
        // The Range reader that predicts nginx's range filter (HTTPCore StaticReply's ByteRanges).
        .executableTarget(name: "FuzzRange", dependencies: ["HTTPCore"]),
        // Download names as Content-Disposition writes them (HTTPCore ContentDisposition), read back.
        .executableTarget(name: "FuzzFilename", dependencies: ["HTTPCore"]),
        // ffprobe's JSON reply as the prober reads it (FFprobeReply.swift is a symlink into Sources/Media; Foundation only).
        .executableTarget(name: "FuzzProbe"),
    ]
)
