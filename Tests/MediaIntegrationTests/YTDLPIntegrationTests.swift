import XCTest
import Foundation
@testable import Media
import Support
import TestSupport

/// The real pinned yt-dlp (.venv/bin/yt-dlp, `make deps`) under the runner, against a loopback
/// origin (Python's http.server in a temporary directory) serving ffmpeg-made media. No proxy:
/// the egress guard has tests of its own.
final class YTDLPIntegrationTests: XCTestCase {
    nonisolated(unsafe) static var root = ""
    nonisolated(unsafe) static var origin: Process?
    nonisolated(unsafe) static var base = ""
    static let executable = YTDLP.defaultExecutable(near: #filePath)

    /// The origin: files from the root, plus
    /// /slow/NAME.mp4 — 4 MiB declared, 64 KiB every 100 ms (progress, stop, wall limit);
    /// /stream/NAME.mp4 — 12 MiB of video/mp4 with no Content-Length (yt-dlp cannot check its size);
    /// /hang — reads the request and never answers.
    static let server = """
    import http.server, sys, time
    root, portfile = sys.argv[1], sys.argv[2]
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=root, **k)
        def log_message(self, *a):
            pass
        def body(self, length, chunk, pause):
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            sent, total = 0, length or 12 << 20
            try:
                while sent < total:
                    n = min(chunk, total - sent)
                    self.wfile.write(b"\\0" * n)
                    self.wfile.flush()
                    sent += n
                    time.sleep(pause)
            except (BrokenPipeError, ConnectionResetError):
                pass
        def do_GET(self):
            if self.path.startswith("/slow/"):
                return self.body(4 << 20, 65536, 0.1)
            if self.path.startswith("/stream/"):
                return self.body(None, 65536, 0)
            if self.path.startswith("/hang"):
                time.sleep(30)
                return
            return super().do_GET()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    open(portfile + ".tmp", "w").write(str(server.server_address[1]))
    import os; os.rename(portfile + ".tmp", portfile)
    server.serve_forever()
    """

    override class func setUp() {
        super.setUp()
        root = NSTemporaryDirectory() + "ytdlp-origin-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: root + "/hls", withIntermediateDirectories: true)
        ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=2:size=320x240", "-f", "lavfi", "-i", "sine=duration=2", "-shortest",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", root + "/v.mp4"])
        ffmpeg(["-i", root + "/v.mp4", "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", root + "/hls/index.m3u8"])
        // The same segments as a live stream: no end, no VOD type.
        let vod = try! String(contentsOfFile: root + "/hls/index.m3u8", encoding: .utf8)
        try! vod.split(separator: "\n").filter { !$0.hasPrefix("#EXT-X-ENDLIST") && !$0.hasPrefix("#EXT-X-PLAYLIST-TYPE") }
            .joined(separator: "\n").write(toFile: root + "/hls/live.m3u8", atomically: true, encoding: .utf8)
        // Video and audio as two DASH representations: yt-dlp downloads both and merges them.
        try! FileManager.default.createDirectory(atPath: root + "/dash", withIntermediateDirectories: true)
        ffmpeg(["-i", root + "/v.mp4", "-map", "0:v", "-map", "0:a", "-c", "copy", "-f", "dash",
                "-adaptation_sets", "id=0,streams=v id=1,streams=a", root + "/dash/manifest.mpd"])
        try! #"<html><head><title>Page</title></head><body><video src="v.mp4"></video></body></html>"#
            .write(toFile: root + "/page.html", atomically: true, encoding: .utf8)
        try! server.write(toFile: root + "/server.py", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root + "/server.py", root, root + "/port"]
        try! process.run()
        origin = process
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: root + "/port") { usleep(25_000) }
        let port = try! String(contentsOfFile: root + "/port", encoding: .utf8)
        base = "http://127.0.0.1:\(port)"
    }

    override class func tearDown() {
        origin?.terminate()
        origin?.waitUntilExit()
        try? FileManager.default.removeItem(atPath: root)
        super.tearDown()
    }

    /// The same ffmpeg runner as the probe tests.
    static func ffmpeg(_ arguments: [String]) { ProberTests.ffmpeg(arguments) }

    // MARK: helpers

    let ytdlp = YTDLP(executable: YTDLPIntegrationTests.executable)
    var jobDir = ""

    override func setUp() {
        super.setUp()
        jobDir = NSTemporaryDirectory() + "ytdlp-job-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: jobDir)
        super.tearDown()
    }

    func limits(maxBytes: Int64 = 100 << 20, wall: Int = 60) -> MediaLimits {
        MediaLimits(maxBytes: maxBytes, maxDurationSeconds: 600, wallSeconds: wall, socketTimeoutSeconds: 10)
    }

    func download(_ path: String, preset: QualityPreset = .best, allowGeneric: Bool = true, limits: MediaLimits? = nil,
                  progress: (MediaProgress) -> Void = { _ in }, shouldStop: () -> Bool = { false }) -> MediaDownloadOutcome {
        ytdlp.download(url: path.hasPrefix("-") ? path : YTDLPIntegrationTests.base + path, preset: preset, directory: jobDir,
                       proxy: nil, allowGeneric: allowGeneric, limits: limits ?? self.limits(), progress: progress,
                       shouldStop: shouldStop)
    }

    func success(_ outcome: MediaDownloadOutcome, file: StaticString = #filePath, line: UInt = #line) throws -> MediaDownloadResult {
        switch outcome {
        case .success(let result): return result
        case .failure(let error): XCTFail("failed: \(error)", file: file, line: line); throw error
        }
    }

    func failure(_ outcome: MediaDownloadOutcome, file: StaticString = #filePath, line: UInt = #line) -> MediaFetchError? {
        switch outcome {
        case .success(let result): XCTFail("succeeded: \(result.path)", file: file, line: line); return nil
        case .failure(let error): return error
        }
    }

    func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    /// The process group of the yt-dlp whose arguments hold `needle` (it leads its own group).
    func groupOf(_ needle: String) -> pid_t? {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name), let cmdline = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { continue }
            let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if args.contains(where: { $0.contains(needle) }) && args.contains("--no-plugin-dirs") { return getpgid(pid) }
        }
        return nil
    }

    func assertGroupGone(_ pgid: pid_t?, file: StaticString = #filePath, line: UInt = #line) {
        guard let pgid else { return XCTFail("the yt-dlp process was never seen", file: file, line: line) }
        XCTAssertEqual(kill(-pgid, 0), -1, "a process of the group is left", file: file, line: line)
        XCTAssertEqual(errno, ESRCH, file: file, line: line)
    }

    // MARK: downloads

    func testDownloadsAnMP4IntoTheJobDirectory() throws {
        var reports: [MediaProgress] = []
        let result = try success(download("/v.mp4", progress: { reports.append($0) }))
        let dir = try XCTUnwrap(YTDLP.realPath(jobDir))
        XCTAssertEqual(result.path, dir + "/v.mp4")
        XCTAssertEqual(result.ext, "mp4")
        XCTAssertEqual(result.extractor, "generic")
        XCTAssertEqual(result.title, "v")
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: YTDLPIntegrationTests.root + "/v.mp4")[.size] as? Int)
        XCTAssertEqual(result.sizeBytes, Int64(size))
        XCTAssertEqual(FileManager.default.contents(atPath: result.path), FileManager.default.contents(atPath: YTDLPIntegrationTests.root + "/v.mp4"))
        XCTAssertEqual(entries(jobDir), ["v.mp4"], "only the file is left, no tmp/")
        XCTAssertFalse(reports.isEmpty)
        XCTAssertTrue(reports.allSatisfy { $0.step == .downloading })
        XCTAssertEqual(reports.last?.percent, 100)
        XCTAssertEqual(reports.last?.bytes, Int64(size))
    }

    func testHTMLPageWithVideoSourceNeedsTheGenericExtractors() throws {
        let result = try success(download("/page.html"))
        XCTAssertEqual(result.ext, "mp4")
        XCTAssertEqual(result.extractor, "html5")
        XCTAssertTrue(result.title?.hasPrefix("Page") == true, "\(result.title ?? "nil")")
        XCTAssertTrue(result.path.hasPrefix(try XCTUnwrap(YTDLP.realPath(jobDir)) + "/"))
        XCTAssertFalse(result.path.contains("Page"), "the title is never part of the path")
    }

    func testHLSStream() throws {
        var steps: Set<String> = []
        let result = try success(download("/hls/index.m3u8", progress: { steps.insert($0.step.rawValue) }))
        XCTAssertEqual(result.ext, "mp4")
        XCTAssertEqual(try XCTUnwrap(result.durationSeconds), 2, accuracy: 0.2)
        XCTAssertEqual(steps, ["downloading", "converting"], "the HLS fix-up is a converting step")
        XCTAssertEqual(entries(jobDir), [(result.path as NSString).lastPathComponent])
    }

    func testAudioPresetConvertsToM4A() throws {
        var steps: [MediaProgress.Step] = []
        let result = try success(download("/v.mp4", preset: .audio, progress: { if steps.last != $0.step { steps.append($0.step) } }))
        XCTAssertEqual(result.ext, "m4a")
        XCTAssertEqual(steps, [.downloading, .converting])
        XCTAssertEqual(entries(jobDir), ["v.m4a"])
    }

    func testSeparateStreamsAreMergedIntoMP4() throws {
        var steps: [MediaProgress.Step] = []
        var finished = 0
        let result = try success(download("/dash/manifest.mpd", preset: .mp4, progress: { report in
            if steps.last != report.step { steps.append(report.step) }
            if report.percent == 100 { finished += 1 }
        }))
        XCTAssertEqual(result.ext, "mp4")
        XCTAssertEqual(steps, [.downloading, .merging])
        XCTAssertGreaterThanOrEqual(finished, 2, "two downloads, each reported to its end")
        let probe = try JSONHelpers.object(Prober().probe(path: result.path).json)
        XCTAssertEqual(JSONHelpers.streams(probe, "video").count, 1)
        XCTAssertEqual(JSONHelpers.streams(probe, "audio").count, 1)
        XCTAssertEqual(entries(jobDir), ["manifest.mp4"])
    }

    func testFFmpegLocationIsPassed() throws {
        let result = try success(YTDLP(executable: YTDLPIntegrationTests.executable, ffmpegDirectory: "/usr/bin")
            .download(url: YTDLPIntegrationTests.base + "/v.mp4", preset: .audio, directory: jobDir, proxy: nil, allowGeneric: true,
                      limits: limits(), progress: { _ in }, shouldStop: { false }))
        XCTAssertEqual(result.ext, "m4a")
        let empty = NSTemporaryDirectory() + "no-ffmpeg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let error = failure(YTDLP(executable: YTDLPIntegrationTests.executable, ffmpegDirectory: empty)
            .download(url: YTDLPIntegrationTests.base + "/v.mp4", preset: .audio, directory: jobDir, proxy: nil, allowGeneric: true,
                      limits: limits(), progress: { _ in }, shouldStop: { false }))
        XCTAssertEqual(error, MediaFetchError(code: .internal, message: "Postprocessing: ffprobe and ffmpeg not found. Please install or provide the path using --ffmpeg-location"))
        XCTAssertEqual(entries(jobDir), [])
    }

    // MARK: failures

    func testSocketTimeout() {
        let error = failure(download("/hang/socket.mp4", limits: MediaLimits(maxBytes: 1 << 20, maxDurationSeconds: 60, wallSeconds: 30,
                                                                              socketTimeoutSeconds: 1)))
        XCTAssertEqual(error?.code, .timeout)
        XCTAssertEqual(error?.transient, true)
        XCTAssertTrue(error?.message.contains("Read timed out") == true, error?.message ?? "")
    }

    func testGenericExtractorOffRefusesAPlainFileURL() {
        let error = failure(download("/v.mp4", allowGeneric: false))
        XCTAssertEqual(error?.code, .unsupportedURL)
        XCTAssertEqual(error?.message, "No suitable extractor found for URL \(YTDLPIntegrationTests.base)/v.mp4")
        XCTAssertEqual(entries(jobDir), [])
    }

    func testNotFoundIsUnavailable() {
        let error = failure(download("/missing.mp4"))
        XCTAssertEqual(error?.code, .unavailable)
        XCTAssertEqual(error?.message, "[generic] missing: Unable to download webpage: HTTP Error 404: File not found")
        XCTAssertEqual(error?.transient, false)
        XCTAssertEqual(entries(jobDir), [])
    }

    func testOverTheSizeLimitByContentLength() {
        let error = failure(download("/v.mp4", limits: limits(maxBytes: 1000)))
        XCTAssertEqual(error?.code, .tooLarge)
        XCTAssertEqual(entries(jobDir), [])
    }

    func testOverTheSizeLimitWithoutContentLengthIsStoppedByTheRunner() {
        let started = Date()
        let error = failure(download("/stream/big.mp4", limits: limits(maxBytes: 1 << 20)))
        XCTAssertEqual(error?.code, .tooLarge)
        XCTAssertEqual(error?.message, "the media is larger than the limit of 1048576 bytes")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(entries(jobDir), [])
    }

    /// A full disk (a 1 MiB tmpfs under the job directory; mounting needs root, as CI runs) is
    /// `storage_failed`, worth a retry, and leaves nothing behind.
    func testFullDiskIsStorageFailed() throws {
        try FileManager.default.createDirectory(atPath: jobDir, withIntermediateDirectories: true)
        XCTAssertEqual(Subprocess.exitCode(system("mount -t tmpfs -o size=1m tmpfs '\(jobDir)'")), 0, "mount a 1 MiB tmpfs (as root)")
        defer { _ = system("umount '\(jobDir)'") }
        let error = failure(download("/stream/big.mp4", limits: limits(maxBytes: 64 << 20)))
        XCTAssertEqual(error?.code, .storageFailed, error?.message ?? "")
        XCTAssertEqual(error?.transient, true)
        XCTAssertEqual(entries(jobDir), [])
    }

    func testLongerThanTheDurationLimit() {
        let error = failure(download("/hls/index.m3u8", limits: MediaLimits(maxBytes: 1 << 20, maxDurationSeconds: 1, wallSeconds: 60)))
        XCTAssertEqual(error, MediaFetchError(code: .tooLong, message: "the media lasts 2 s, longer than the limit of 1 s"))
        XCTAssertEqual(entries(jobDir), [])
    }

    func testLiveStreamIsRefused() {
        let error = failure(download("/hls/live.m3u8"))
        XCTAssertEqual(error?.code, .isLive)
        XCTAssertEqual(entries(jobDir), [])
    }

    func testWallLimitKillsTheWholeGroup() {
        let needle = "/slow/wall-\(UUID().uuidString).mp4"
        var group: pid_t? = nil
        let started = Date()
        // The wall limit counts yt-dlp's own start (Python's imports: over 2 s on a loaded 2-core
        // machine), so it is 5 s here: the process is seen reporting progress before it ends.
        let error = failure(download(needle, limits: limits(wall: 5), progress: { _ in if group == nil { group = self.groupOf(needle) } }))
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(error?.code, .timeout)
        XCTAssertEqual(error?.transient, true)
        XCTAssertGreaterThanOrEqual(elapsed, 5)
        XCTAssertLessThan(elapsed, 6)
        assertGroupGone(group)
        XCTAssertEqual(entries(jobDir), [], "the partial file is gone")
    }

    func testShouldStopKillsWithinASecond() {
        let needle = "/slow/stop-\(UUID().uuidString).mp4"
        var group: pid_t? = nil
        var percents: [Double] = []
        var askedAt: Date? = nil
        let error = failure(download(needle, progress: { report in
            if group == nil { group = self.groupOf(needle) }
            if let p = report.percent { percents.append(p) }
        }, shouldStop: {
            if askedAt == nil && percents.count >= 5 { askedAt = Date() }
            return askedAt != nil
        }))
        let latency = Date().timeIntervalSince(askedAt ?? .distantPast)
        XCTAssertEqual(error?.code, .cancelled)
        XCTAssertLessThan(latency, 1)
        print("stop latency: \(Int(latency * 1000)) ms")
        XCTAssertGreaterThan(percents.last ?? 0, percents.first ?? 100, "the percent moved")
        XCTAssertLessThan(percents.last ?? 100, 100)
        assertGroupGone(group)
        XCTAssertEqual(entries(jobDir), [])
    }

    func testURLStartingWithADashIsNoOption() {
        // Read as an option, "--version" would print the version and exit 0 (no file: an internal error).
        for url in ["--version", "-o/tmp/owned-%(id)s"] {
            let error = failure(download(url))
            XCTAssertEqual(error?.code, .unsupportedURL, url)
            XCTAssertEqual(error?.message, "[generic] '\(url)' is not a valid URL")
            XCTAssertEqual(entries(jobDir), [])
        }
    }

    // MARK: metadata and versions

    func testMetadataShape() throws {
        let metadata = try ytdlp.metadata(url: YTDLPIntegrationTests.base + "/hls/index.m3u8", proxy: nil, allowGeneric: true,
                                          timeoutSeconds: 30).get()
        XCTAssertEqual(metadata.title, "index")
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(metadata.json.utf8)) as? [String: Any])
        XCTAssertEqual(Set(root.keys), ["title", "duration", "uploader", "thumbnail", "webpage_url", "extractor", "formats"])
        XCTAssertEqual(root["extractor"] as? String, "generic")
        XCTAssertEqual(root["webpage_url"] as? String, YTDLPIntegrationTests.base + "/hls/index.m3u8")
        XCTAssertEqual((root["duration"] as? NSNumber)?.doubleValue ?? 0, 2, accuracy: 0.2)
        XCTAssertTrue(root["uploader"] is NSNull)
        let formats = try XCTUnwrap(root["formats"] as? [[String: Any]])
        XCTAssertEqual(formats.count, 1)
        XCTAssertEqual(Set(formats[0].keys), ["format_id", "ext", "resolution", "fps", "vcodec", "acodec", "filesize"])
        XCTAssertEqual(formats[0]["ext"] as? String, "mp4")
        XCTAssertEqual(formats[0]["format_id"] as? String, "0")
        // A media playlist without EXT-X-STREAM-INF says nothing of its picture: yt-dlp's nulls stay null.
        XCTAssertTrue(formats[0]["resolution"] is NSNull && formats[0]["vcodec"] is NSNull && formats[0]["filesize"] is NSNull)
    }

    func testMetadataFailures() {
        let notFound = ytdlp.metadata(url: YTDLPIntegrationTests.base + "/missing.mp4", proxy: nil, allowGeneric: true, timeoutSeconds: 30)
        XCTAssertEqual(notFound.failure?.code, .unavailable)
        let off = ytdlp.metadata(url: YTDLPIntegrationTests.base + "/v.mp4", proxy: nil, allowGeneric: false, timeoutSeconds: 30)
        XCTAssertEqual(off.failure?.code, .unsupportedURL)
        let started = Date()
        let hang = ytdlp.metadata(url: YTDLPIntegrationTests.base + "/hang/x.mp4", proxy: nil, allowGeneric: true, timeoutSeconds: 2)
        XCTAssertEqual(hang.failure?.code, .timeout)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }

    func testVersions() throws {
        XCTAssertEqual(ytdlp.version(), "2026.10.26")
        XCTAssertNil(YTDLP(executable: "/nonexistent/yt-dlp").version())
        let ffmpeg = try XCTUnwrap(MediaTools.ffmpegVersion())
        XCTAssertTrue(ffmpeg.first?.isNumber == true, ffmpeg)
        XCTAssertEqual(MediaTools.ffmpegVersion("ffprobe"), ffmpeg)
        XCTAssertTrue(MediaTools.locate("ffmpeg")?.hasSuffix("/ffmpeg") == true)
        XCTAssertNil(MediaTools.locate("no-such-tool-\(UUID().uuidString)"))
    }

    /// Measured figure (printed): a 50 MiB local file through the runner against the same argv run directly,
    /// five times each, interleaved.
    func testFiftyMebibytesAgainstTheSameCommandByHand() throws {
        let big = YTDLPIntegrationTests.root + "/big.mp4"
        FileManager.default.createFile(atPath: big, contents: Data(count: 50 << 20))
        defer { unlink(big) }
        var runner: [Double] = [], byHand: [Double] = []
        for _ in 0..<5 {
            var started = Date()
            let result = try success(download("/big.mp4"))
            runner.append(Date().timeIntervalSince(started))
            XCTAssertEqual(result.sizeBytes, 50 << 20)
            let dir = NSTemporaryDirectory() + "ytdlp-hand-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let argv = ytdlp.downloadArguments(url: YTDLPIntegrationTests.base + "/big.mp4", preset: .best, directory: dir, proxy: nil,
                                               allowGeneric: true, limits: limits(), marker: "hand")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: argv[0])
            process.arguments = Array(argv.dropFirst())
            process.standardOutput = FileHandle.nullDevice
            started = Date()
            try process.run()
            process.waitUntilExit()
            byHand.append(Date().timeIntervalSince(started))
            XCTAssertEqual(process.terminationStatus, 0)
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        print(String(format: "50 MiB: runner %.3f s (min %.3f), by hand %.3f s (min %.3f); medians of 5 interleaved, ratio %.3f",
                     median(runner), runner.min()!, median(byHand), byHand.min()!, median(runner) / median(byHand)))
    }
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}
