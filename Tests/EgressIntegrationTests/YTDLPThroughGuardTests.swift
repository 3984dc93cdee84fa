import XCTest
import Foundation
@testable import Egress
import Outbound

/// Real yt-dlp (the project's pinned `.venv/bin/yt-dlp`) and the ffmpeg it starts, pointed at the
/// guard with `--proxy`, against ffmpeg-made media on loopback origins.
final class YTDLPThroughGuardTests: GuardedOriginsTestCase {
    var work = ""

    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let ytdlp = checkout + "/.venv/bin/yt-dlp"
    /// No proxy variables, no user configuration: only what each test passes.
    var environment: [String: String] { ["PATH": "/usr/bin:/bin", "HOME": work] }

    override func setUpWithError() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.ytdlp), "run `make deps` first: \(Self.ytdlp)")
        work = NSTemporaryDirectory() + "egress-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: true)
        try super.setUpWithError()
    }

    override func tearDown() {
        super.tearDown()
        try? FileManager.default.removeItem(atPath: work)
    }

    private func ffmpeg(_ arguments: [String]) throws {
        let result = try runProgram(["/usr/bin/ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + arguments, environment: environment)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    private func ytdlp(_ url: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram([Self.ytdlp, "--ignore-config", "--no-config-locations", "--no-plugin-dirs", "--no-cache-dir",
                 "--proxy", egress.proxyURL, "--retries", "0", "--fragment-retries", "0", "--abort-on-unavailable-fragments",
                 "-P", work + "/out", "-o", "%(id)s.%(ext)s", "--print", "after_move:filepath"] + extra + ["--", url],
                environment: environment)
    }

    /// An HLS stream made by ffmpeg whose segment URLs start with `base`; segments are served by
    /// `segments`, the playlist by the allowed origin at /hls/index.m3u8.
    private func hls(segmentBase base: String, servedBy segments: LoopbackOrigin) throws {
        try FileManager.default.createDirectory(atPath: work + "/hls", withIntermediateDirectories: true)
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=10", "-f", "lavfi", "-i", "sine=duration=2",
                    "-shortest", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", "-hls_base_url", base,
                    "-hls_segment_filename", work + "/hls/seg%d.ts", work + "/hls/index.m3u8"])
        let playlist = try String(contentsOfFile: work + "/hls/index.m3u8", encoding: .utf8)
        XCTAssertTrue(playlist.contains(base + "seg0.ts"), playlist)
        allowed.route("/hls/index.m3u8", .init(headers: [("Content-Type", "application/vnd.apple.mpegurl")], body: Array(playlist.utf8)))
        for name in try FileManager.default.contentsOfDirectory(atPath: work + "/hls") where name.hasSuffix(".ts") {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: work + "/hls/" + name)))
            segments.route("/seg/" + name, .init(headers: [("Content-Type", "video/mp2t")], body: bytes))
        }
    }

    func testYTDLPDownloadsAnMP4FromTheAllowedOriginThroughTheGuard() throws {
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=1:size=160x120", "-f", "lavfi", "-i", "sine=duration=1", "-shortest", work + "/out.mp4"])
        let mp4 = try Data(contentsOf: URL(fileURLWithPath: work + "/out.mp4"))
        allowed.route("/media/clip.mp4", .init(headers: [("Content-Type", "video/mp4")], body: [UInt8](mp4)))

        let result = try ytdlp(allowed.url("/media/clip.mp4", host: "localhost"))
        XCTAssertEqual(result.status, 0, result.stderr)
        let path = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(path, work + "/out/clip.mp4")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), mp4)
        // Every request the origin saw came through the guard (it forces Connection: close).
        XCTAssertTrue(allowed.targets.contains("/media/clip.mp4"), "\(allowed.targets)")
        XCTAssertTrue(allowed.requests.allSatisfy { $0.hasSuffix("Connection: close\r\n\r\n") }, "\(allowed.requests)")
        XCTAssertEqual(egress.refusals.count, 0)
    }

    func testHLSSegmentsOnARefusedAddressAreRefusedAndNeverReached() throws {
        try hls(segmentBase: forbidden.url("/seg/"), servedBy: forbidden)
        let result = try ytdlp(allowed.url("/hls/index.m3u8", host: "localhost"))
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("403"), result.stderr)
        XCTAssertTrue(allowed.targets.contains("/hls/index.m3u8"), "\(allowed.targets)")
        XCTAssertEqual(forbidden.connections, 0)
        XCTAssertFalse(egress.refusals.isEmpty)
        XCTAssertTrue(egress.refusals.allSatisfy { $0.host == "127.0.0.2" && $0.reason == .blockedAddress }, "\(egress.refusals)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work + "/out").filter { $0.hasSuffix(".mp4") || $0.hasSuffix(".ts") }, [])
    }

    func testFFmpegStartedByYTDLPGoesThroughTheGuardToo() throws {
        // Segments on the allowed origin: ffmpeg (yt-dlp's downloader here) fetches them through the guard.
        try hls(segmentBase: allowed.url("/seg/", host: "localhost"), servedBy: allowed)
        let fetched = try ytdlp(allowed.url("/hls/index.m3u8", host: "localhost"), ["--downloader", "ffmpeg"])
        XCTAssertEqual(fetched.status, 0, fetched.stderr)
        XCTAssertTrue(allowed.targets.contains("/seg/seg0.ts"), "\(allowed.targets)")
        // ffmpeg's own request (it adds Icy-MetaData), as forwarded by the guard (Host first, Connection: close last).
        let segment = try XCTUnwrap(allowed.requests.first { $0.hasPrefix("GET /seg/seg0.ts ") })
        XCTAssertTrue(segment.contains("\r\nIcy-MetaData: 1\r\n"), segment)
        XCTAssertTrue(segment.hasPrefix("GET /seg/seg0.ts HTTP/1.1\r\nHost: localhost:\(allowed.port)\r\n"), segment)
        XCTAssertTrue(allowed.requests.allSatisfy { $0.hasSuffix("Connection: close\r\n\r\n") }, "\(allowed.requests)")

        // Segments on 127.0.0.2: ffmpeg's own connections are refused and 127.0.0.2 never sees one.
        try FileManager.default.removeItem(atPath: work + "/out")
        let refusedAt = forbidden.url("/seg/")
        try hls(segmentBase: refusedAt, servedBy: forbidden)
        let refused = try ytdlp(allowed.url("/hls/index.m3u8", host: "localhost") + "?second", ["--downloader", "ffmpeg"])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertEqual(forbidden.connections, 0)
        XCTAssertTrue(egress.refusals.contains { $0.host == "127.0.0.2" && $0.reason == .blockedAddress }, "\(egress.refusals)")
    }

    /// The guard's cost on a 50 MiB download over loopback: curl through the guard against curl
    /// straight to the origin, best of three each. Printed for the report; the bytes must match.
    func testThroughputOfA50MiBDownload() throws {
        let size = 50 * 1024 * 1024
        allowed.route("/big", .init(headers: [("Content-Type", "application/octet-stream")], body: [UInt8](repeating: 0x5a, count: size)))
        func best(_ proxy: [String]) throws -> Double {
            var times: [Double] = []
            for _ in 0..<3 {
                let result = try runProgram(["/usr/bin/curl", "-sS", "--noproxy", proxy.isEmpty ? "*" : ""] + proxy
                                     + ["-o", "/dev/null", "-w", "%{size_download} %{time_total}", allowed.url("/big", host: "localhost")],
                                     environment: ["PATH": "/usr/bin:/bin"])
                let fields = result.stdout.split(separator: " ")
                XCTAssertEqual(fields.first.map(String.init), String(size), result.stderr)
                times.append(Double(fields.last ?? "") ?? .infinity)
            }
            return times.min() ?? .infinity
        }
        let direct = try best([])
        let guarded = try best(["--proxy", egress.proxyURL])
        let mib = Double(size) / 1_048_576
        print(String(format: "egress throughput, 50 MiB over loopback: direct %.3f s (%.0f MiB/s), through the guard %.3f s (%.0f MiB/s), %.2fx",
                     direct, mib / direct, guarded, mib / guarded, guarded / direct))
        XCTAssertEqual(egress.refusals.count, 0)
    }
}
