import XCTest
import Foundation
@testable import Media

/// The yt-dlp runner's pure parts: argv per preset, its output lines, error classification
/// (from stderr lines yt-dlp 2026.10.26 really printed), metadata normalization.
final class YTDLPArgumentTests: XCTestCase {
    let limits = MediaLimits(maxBytes: 1000, maxDurationSeconds: 60, wallSeconds: 30, socketTimeoutSeconds: 7)
    let runner = YTDLP(executable: "/opt/yt-dlp")

    func argv(_ url: String = "https://example.com/v", preset: QualityPreset = .best, proxy: String? = nil,
              allowGeneric: Bool = false, runner: YTDLP? = nil) -> [String] {
        (runner ?? self.runner).downloadArguments(url: url, preset: preset, directory: "/jobs/7", proxy: proxy,
                                                  allowGeneric: allowGeneric, limits: limits, marker: "fgm")
    }

    /// The value following `option` (the first occurrence).
    func value(_ args: [String], _ option: String) -> String? {
        args.firstIndex(of: option).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    }

    func testURLComesLastAfterDoubleDash() {
        for url in ["https://example.com/v", "-x", "--exec=touch /tmp/owned", "--", "-P home:/etc"] {
            let args = argv(url)
            XCTAssertEqual(Array(args.suffix(2)), ["--", url])
            XCTAssertEqual(args.firstIndex(of: "--"), args.count - 2, "no earlier -- for \(url)")
        }
    }

    func testFixedOptionsOnEveryRun() {
        let args = argv()
        XCTAssertEqual(args[0], "/opt/yt-dlp")
        XCTAssertEqual(Array(args[1...4]), ["--ignore-config", "--no-config-locations", "--no-plugin-dirs", "--no-cache-dir"])
        XCTAssertEqual(value(args, "--max-filesize"), "1000")
        XCTAssertEqual(value(args, "--match-filters"), "!is_live & duration<?60")
        XCTAssertEqual(value(args, "--socket-timeout"), "7")
        XCTAssertTrue(args.contains("--no-playlist"))
        XCTAssertTrue(args.contains("--restrict-filenames"))
        XCTAssertTrue(args.contains("--no-mtime"))
        XCTAssertTrue(args.contains("--newline"))
        XCTAssertEqual(value(args, "-o"), "%(id).64s.%(ext)s")
        let paths = args.indices.filter { args[$0] == "-P" }.map { args[$0 + 1] }
        XCTAssertEqual(paths, ["home:/jobs/7", "temp:/jobs/7/tmp"])
        let prints = args.indices.filter { args[$0] == "--print" }.map { args[$0 + 1] }
        XCTAssertEqual(prints.count, 2)
        XCTAssertTrue(prints.contains { $0.hasPrefix("after_move:fgm file ") && $0.contains("filepath") })
        let templates = args.indices.filter { args[$0] == "--progress-template" }.map { args[$0 + 1] }
        XCTAssertTrue(templates.contains { $0.hasPrefix("download:fgm dl ") })
        XCTAssertTrue(templates.contains { $0.hasPrefix("postprocess:fgm pp ") })
        for forbidden in ["--exec", "--netrc-cmd", "--load-info-json", "--batch-file", "-a", "--enable-file-urls",
                          "--compat-options", "--downloader", "--external-downloader", "--proxy", "--ffmpeg-location"] {
            XCTAssertFalse(args.contains(forbidden), forbidden)
        }
    }

    func testGenericExtractorOnlyWhenAllowed() {
        XCTAssertEqual(value(argv(allowGeneric: false), "--use-extractors"), "default,-generic")
        XCTAssertFalse(argv(allowGeneric: true).contains("--use-extractors"))
    }

    func testProxyAndFFmpegLocationWhenGiven() {
        let args = argv(proxy: "http://127.0.0.1:4000", runner: YTDLP(executable: "yt-dlp", ffmpegDirectory: "/usr/local/ffmpeg"))
        XCTAssertEqual(value(args, "--proxy"), "http://127.0.0.1:4000")
        XCTAssertEqual(value(args, "--ffmpeg-location"), "/usr/local/ffmpeg")
        XCTAssertLessThan(args.firstIndex(of: "--proxy")!, args.firstIndex(of: "--")!)
    }

    func testPresetsMapToFixedSelectors() {
        XCTAssertEqual(QualityPreset.allCases.map(\.rawValue), ["best", "1080p", "720p", "480p", "360p", "audio", "mp4"])
        XCTAssertEqual(YTDLP.formatArguments(.best), ["-f", "bv*+ba/b"])
        XCTAssertEqual(YTDLP.formatArguments(.p1080), ["-f", "bv*[height<=?1080]+ba/b[height<=?1080]"])
        XCTAssertEqual(YTDLP.formatArguments(.p720), ["-f", "bv*[height<=?720]+ba/b[height<=?720]"])
        XCTAssertEqual(YTDLP.formatArguments(.p480), ["-f", "bv*[height<=?480]+ba/b[height<=?480]"])
        XCTAssertEqual(YTDLP.formatArguments(.p360), ["-f", "bv*[height<=?360]+ba/b[height<=?360]"])
        XCTAssertEqual(YTDLP.formatArguments(.audio), ["-f", "ba/b", "-x", "--audio-format", "m4a"])
        XCTAssertEqual(YTDLP.formatArguments(.mp4), ["-f", "bv*[ext=mp4]+ba[ext=m4a]/b[ext=mp4]/bv*+ba/b", "--merge-output-format", "mp4"])
        for preset in QualityPreset.allCases {
            let args = argv("-u", preset: preset)
            XCTAssertEqual(value(args, "-f"), YTDLP.formatArguments(preset)[1])
            XCTAssertEqual(Array(args.suffix(2)), ["--", "-u"], preset.rawValue)
        }
    }

    func testMetadataArguments() {
        let args = runner.metadataArguments(url: "-J", proxy: nil, allowGeneric: false, socketTimeoutSeconds: 5)
        XCTAssertEqual(Array(args.suffix(2)), ["--", "-J"])
        XCTAssertEqual(args.filter { $0 == "-J" }.count, 2)
        XCTAssertTrue(args.contains("--skip-download") && args.contains("--no-playlist") && args.contains("--ignore-config"))
        XCTAssertEqual(value(args, "--use-extractors"), "default,-generic")
    }

    func testEnvironmentHasNoProxyAndHomeIsTheJob() {
        let env = YTDLPProcess.environment(home: "/jobs/7", parent: [
            "PATH": "/usr/bin", "HOME": "/root", "http_proxy": "http://a", "HTTPS_PROXY": "http://b", "all_proxy": "x",
            "NO_PROXY": "*", "ftp_proxy": "y", "XDG_CONFIG_HOME": "/etc/x", "PYTHONPATH": "/evil", "LANG": "C.UTF-8",
        ])
        XCTAssertEqual(env, ["HOME=/jobs/7", "LANG=C.UTF-8", "PATH=/usr/bin", "PYTHONIOENCODING=utf-8", "PYTHONUNBUFFERED=1"])
    }

    func testDefaultExecutableWalksUpToTheVirtualenv() throws {
        let root = NSTemporaryDirectory() + "ytdlp-default-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/.venv/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/.build/release", withIntermediateDirectories: true)
        XCTAssertEqual(YTDLP.defaultExecutable(near: root + "/.build/release/fetchgate"), "yt-dlp")
        _ = FileManager.default.createFile(atPath: root + "/.venv/bin/yt-dlp", contents: Data("#!/bin/sh\n".utf8),
                                       attributes: [.posixPermissions: 0o755])
        XCTAssertEqual(YTDLP.defaultExecutable(near: root + "/.build/release/fetchgate"), root + "/.venv/bin/yt-dlp")
    }
}

final class YTDLPOutputTests: XCTestCase {
    func parse(_ line: String) -> YTDLPLine { YTDLPOutput.parse(line: Substring(line), marker: "fgm") }

    func testDownloadLines() {
        // As yt-dlp printed them with the runner's template.
        XCTAssertEqual(parse("fgm dl downloading 1024 32538 NA NA NA"),
                       .download(status: "downloading", bytes: 1024, total: 32538, estimate: nil, speed: nil, eta: nil))
        XCTAssertEqual(parse("fgm dl downloading 3072 32538 NA 1580000.2315144083 0"),
                       .download(status: "downloading", bytes: 3072, total: 32538, estimate: nil, speed: 1580000.2315144083, eta: 0))
        XCTAssertEqual(parse("fgm dl downloading 7168 NA 22060.0 0 NA"),
                       .download(status: "downloading", bytes: 7168, total: nil, estimate: 22060, speed: 0, eta: nil))
        XCTAssertEqual(parse("fgm dl finished 32538 32538 NA 2528424.921298355 NA"),
                       .download(status: "finished", bytes: 32538, total: 32538, estimate: nil, speed: 2528424.921298355, eta: nil))
        XCTAssertEqual(parse("fgm dl downloading -5 nan inf 1e400 12.7"),
                       .download(status: "downloading", bytes: nil, total: nil, estimate: nil, speed: nil, eta: 12))
        XCTAssertEqual(parse("fgm dl downloading 1 2 3"), .other)
    }

    func testMarkerMustMatch() {
        XCTAssertEqual(parse("fgx dl downloading 1 2 NA NA NA"), .other)
        XCTAssertEqual(parse("fgmdl downloading 1 2 NA NA NA"), .other)
        XCTAssertEqual(parse(" fgm dl downloading 1 2 NA NA NA"), .other)
        XCTAssertEqual(parse("WARNING: fgm file {\"filepath\": \"/etc/passwd\"}"), .other)
        XCTAssertEqual(parse("fgm"), .other)
        XCTAssertEqual(parse("fgm "), .other)
        XCTAssertEqual(parse("fgm what 1"), .other)
    }

    func testPrintLines() {
        XCTAssertEqual(parse(#"fgm file {"filepath": "/tmp/b10/out/v.mp4", "ext": "mp4"}"#), .file(path: "/tmp/b10/out/v.mp4", ext: "mp4"))
        XCTAssertEqual(parse(#"fgm file {"ext": "mp4"}"#), .other)
        XCTAssertEqual(parse(#"fgm file {"filepath": 3}"#), .other)
        XCTAssertEqual(parse("fgm file not json"), .other)
        XCTAssertEqual(parse(#"fgm info {"title": "Page (1) \u00e9\n", "extractor": "html5", "duration": 2, "is_live": false}"#),
                       .info(YTDLPInfo(title: "Page (1) é\n", extractor: "html5", duration: 2, isLive: false)))
        XCTAssertEqual(parse(#"fgm info {"extractor": "generic"}"#), .info(YTDLPInfo(extractor: "generic")))
        XCTAssertEqual(parse("fgm pp started Merger"), .postprocess(status: "started", name: "Merger"))
        XCTAssertEqual(parse("fgm pp finished"), .other)
    }

    func testPostprocessorSteps() {
        XCTAssertEqual(YTDLPOutput.step(postprocessor: "Merger"), .merging)
        XCTAssertEqual(YTDLPOutput.step(postprocessor: "ExtractAudio"), .converting)
        XCTAssertEqual(YTDLPOutput.step(postprocessor: "FixupM3u8"), .converting)
        XCTAssertNil(YTDLPOutput.step(postprocessor: "MoveFiles"))
    }

    func testTallyAcrossTwoDownloads() {
        var tally = YTDLPTally()
        XCTAssertEqual(tally.progress(status: "downloading", bytes: 50, total: 200, estimate: nil, speed: 10, eta: 15),
                       MediaProgress(step: .downloading, percent: 25, bytes: 50, totalBytes: 200, speed: 10, eta: 15))
        XCTAssertEqual(tally.progress(status: "finished", bytes: 200, total: 200, estimate: nil, speed: nil, eta: nil).percent, 100)
        XCTAssertEqual(tally.bytesSoFar, 200)
        // The audio stream: the bytes add up for the size limit, the percent is this stream's.
        let audio = tally.progress(status: "downloading", bytes: 30, total: nil, estimate: 60, speed: nil, eta: nil)
        XCTAssertEqual(audio.percent, 50)
        XCTAssertEqual(audio.totalBytes, 60)
        XCTAssertEqual(tally.bytesSoFar, 230)
        XCTAssertNil(tally.progress(status: "downloading", bytes: 1, total: nil, estimate: nil, speed: nil, eta: nil).percent)
        XCTAssertEqual(tally.progress(status: "downloading", bytes: .max, total: nil, estimate: nil, speed: nil, eta: nil).bytes, .max)
        XCTAssertEqual(tally.bytesSoFar, .max)
    }

    func testLineBuffer() {
        var buffer = LineBuffer()
        var lines: [String] = []
        let collect: (Substring) -> Bool = { lines.append(String($0)); return true }
        XCTAssertTrue(buffer.feed(ArraySlice(Array("a\r\nb".utf8)), collect))
        XCTAssertEqual(lines, ["a"])
        XCTAssertTrue(buffer.feed(ArraySlice(Array("c\n\n".utf8)), collect))
        XCTAssertEqual(lines, ["a", "bc", ""])
        XCTAssertTrue(buffer.feed(ArraySlice([UInt8](repeating: 65, count: LineBuffer.maxLine + 1)), collect))
        XCTAssertTrue(buffer.feed(ArraySlice(Array("tail\nnext\n".utf8)), collect))
        XCTAssertEqual(lines, ["a", "bc", "", "next"], "the over-long line is dropped whole")
        XCTAssertFalse(buffer.feed(ArraySlice(Array("x\ny\n".utf8)), { _ in false }))
    }
}

final class YTDLPErrorTests: XCTestCase {
    func classify(_ line: String, hidden: [String] = []) -> MediaFetchError {
        YTDLPErrors.classify(output: "WARNING: [generic] Falling back on generic information extractor\n" + line, exitStatus: 1,
                             hiddenPaths: hidden)
    }

    // Lines yt-dlp 2026.10.26 printed on this machine against a loopback origin.
    func testRealLines() {
        let notFound = classify("ERROR: [generic] nope: Unable to download webpage: HTTP Error 404: File not found (caused by <HTTPError 404: File not found>)")
        XCTAssertEqual(notFound, MediaFetchError(code: .unavailable, message: "[generic] nope: Unable to download webpage: HTTP Error 404: File not found"))
        XCTAssertFalse(notFound.transient)

        let refused = classify("ERROR: [generic] v: Unable to download webpage: HTTPConnection(host='127.0.0.1', port=18932): Failed to establish a new connection: [Errno 111] Connection refused (caused by TransportError(\"HTTPConnection(host='127.0.0.1', port=18932): Failed to establish a new connection: [Errno 111] Connection refused\"))")
        XCTAssertEqual(refused.code, .network)
        XCTAssertTrue(refused.transient)
        XCTAssertFalse(refused.message.contains("caused by"))

        let dns = classify("ERROR: [generic] v: Unable to download webpage: HTTPConnection(host='nonexistent.invalid', port=80): Failed to resolve 'nonexistent.invalid' ([Errno -2] Name or service not known) (caused by TransportError(\"HTTPConnection(host='nonexistent.invalid', port=80): Failed to resolve 'nonexistent.invalid' ([Errno -2] Name or service not known)\"))")
        XCTAssertEqual(dns.code, .network)

        let slow = classify("ERROR: [generic] v: Unable to download webpage: HTTPConnectionPool(host='127.0.0.1', port=18940): Read timed out. (read timeout=2.0) (caused by TransportError(\"HTTPConnectionPool(host='127.0.0.1', port=18940): Read timed out. (read timeout=2.0)\"))")
        XCTAssertEqual(slow.code, .timeout)
        XCTAssertTrue(slow.transient)

        XCTAssertEqual(classify("ERROR: No suitable extractor found for URL http://127.0.0.1:18931/v.mp4").code, .unsupportedURL)
        XCTAssertEqual(classify("ERROR: Unsupported URL: http://127.0.0.1:18931/empty.html").code, .unsupportedURL)
        XCTAssertEqual(classify("ERROR: [generic] '--version' is not a valid URL").code, .unsupportedURL)
        XCTAssertEqual(classify("ERROR: No suitable extractor found for URL --version").code, .unsupportedURL)
    }

    func testSiteReasons() {
        for line in ["ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video",
                     "ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader",
                     "ERROR: [vimeo] 123: The uploader has not made this video available in your country",
                     "ERROR: [generic] x: Unable to download webpage: HTTP Error 403: Forbidden (caused by <HTTPError 403: Forbidden>)",
                     "ERROR: [generic] x: Unable to download webpage: HTTP Error 410: Gone"] {
            XCTAssertEqual(classify(line).code, .unavailable, line)
        }
        XCTAssertEqual(classify("ERROR: [generic] x: Unable to download webpage: HTTP Error 503: Service Unavailable").code, .network)
        XCTAssertEqual(classify("ERROR: [generic] x: Unable to download webpage: HTTP Error 429: Too Many Requests").code, .network)
        XCTAssertEqual(classify("ERROR: [download] File is larger than max-filesize (32538 bytes > 1000 bytes). Aborting.").code, .tooLarge)
        XCTAssertEqual(classify("ERROR: something nobody expected").code, .internal)
        // Printed with --ffmpeg-location pointing at a directory without ffmpeg.
        XCTAssertEqual(classify("ERROR: Postprocessing: ffprobe and ffmpeg not found. Please install or provide the path using --ffmpeg-location").code, .internal)
    }

    func testNoErrorLine() {
        XCTAssertEqual(YTDLPErrors.classify(output: "WARNING: x\nTraceback (most recent call last):", exitStatus: 2),
                       MediaFetchError(code: .internal, message: "yt-dlp exited with status 2"))
    }

    func testLocalPathsRemoved() {
        let e = classify("ERROR: Unable to create directory: [Errno 2] No such file or directory: '/proc/nope'")
        XCTAssertEqual(e.message, "Unable to create directory: [Errno 2] No such file or directory: '[path]'")
        let spaced = classify("ERROR: unable to open for writing: [Errno 28] No space left on device: '/data/my jobs/7/tmp/x.mp4.part'",
                              hidden: ["/data/my jobs/7"])
        XCTAssertEqual(spaced.message, "unable to open for writing: [Errno 28] No space left on device: '[path]'")
        XCTAssertEqual(YTDLPErrors.withoutPaths("see http://h/a/b and /etc/passwd, (/x) //y"), "see http://h/a/b and [path], ([path]) //y")
        XCTAssertEqual(YTDLPErrors.withoutPaths("/"), "[path]")
        let long = YTDLPErrors.readable("ERROR " + String(repeating: "x", count: 1000), hiddenPaths: [])
        XCTAssertEqual(long.count, 401)
    }

    func testCodesAndBlockedAddress() {
        XCTAssertEqual(MediaFetchError.Code.allCases.map(\.rawValue),
                       ["unsupported_url", "unavailable", "too_large", "too_long", "is_live", "timeout", "network",
                        "blocked_address", "storage_failed", "cancelled", "internal"])
        let blocked = MediaFetchError.blockedAddress(detail: "127.0.0.2 is not public")
        XCTAssertEqual(blocked.code, .blockedAddress)
        XCTAssertFalse(blocked.transient)
        XCTAssertTrue(blocked.message.contains("127.0.0.2 is not public"))
    }

    func testSkippedWithoutFile() {
        let limits = MediaLimits(maxBytes: 10, maxDurationSeconds: 60, wallSeconds: 5)
        let large = MediaFetchError(code: .tooLarge, message: "large")
        XCTAssertEqual(YTDLP.skipped(YTDLPInfo(extractor: "generic", isLive: true), limits: limits, tooLarge: large).code, .isLive)
        XCTAssertEqual(YTDLP.skipped(YTDLPInfo(extractor: "generic", duration: 61), limits: limits, tooLarge: large).code, .tooLong)
        XCTAssertEqual(YTDLP.skipped(YTDLPInfo(extractor: "generic", duration: 59), limits: limits, tooLarge: large).code, .tooLarge)
        XCTAssertEqual(YTDLP.skipped(nil, limits: limits, tooLarge: large).code, .internal)
    }
}

final class YTDLPMetadataTests: XCTestCase {
    func testNormalizedShape() throws {
        let formats = (0..<250).map { i in
            #"{"format_id": "f\#(i)", "ext": "mp4", "resolution": "320x240", "fps": 25, "vcodec": "avc1", "acodec": "mp4a.40.2", "filesize_approx": \#(i * 10), "url": "http://x/\#(i)"}"#
        }.joined(separator: ",")
        let raw = #"{"id": "v", "title": "A \"title\"", "duration": 2.5, "extractor": "generic", "webpage_url": "http://h/v.mp4", "http_headers": {}, "formats": [\#(formats)]}"#
        let metadata = try XCTUnwrap(YTDLPMetadata.normalize(Data(raw.utf8)))
        XCTAssertEqual(metadata.title, "A \"title\"")
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(metadata.json.utf8)) as? [String: Any])
        XCTAssertEqual(Set(root.keys), ["title", "duration", "uploader", "thumbnail", "webpage_url", "extractor", "formats"])
        XCTAssertTrue(root["uploader"] is NSNull && root["thumbnail"] is NSNull)
        XCTAssertEqual((root["duration"] as? NSNumber)?.doubleValue, 2.5)
        XCTAssertEqual(root["webpage_url"] as? String, "http://h/v.mp4")
        XCTAssertTrue(metadata.json.contains(#""webpage_url":"http://h/v.mp4""#), "slashes unescaped")
        let list = try XCTUnwrap(root["formats"] as? [[String: Any]])
        XCTAssertEqual(list.count, 200)
        XCTAssertEqual(Set(list[3].keys), ["format_id", "ext", "resolution", "fps", "vcodec", "acodec", "filesize"])
        XCTAssertEqual(list[3]["format_id"] as? String, "f3")
        XCTAssertEqual((list[3]["filesize"] as? NSNumber)?.intValue, 30)
        XCTAssertEqual((list[3]["fps"] as? NSNumber)?.intValue, 25)
    }

    func testNotAnObject() {
        XCTAssertNil(YTDLPMetadata.normalize(Data("[1]".utf8)))
        XCTAssertNil(YTDLPMetadata.normalize(Data("".utf8)))
        let bare = YTDLPMetadata.normalize(Data(#"{"formats": "no", "title": 5}"#.utf8))
        XCTAssertEqual(bare?.title, nil)
        XCTAssertEqual(bare?.json, #"{"duration":null,"extractor":null,"formats":[],"thumbnail":null,"title":null,"uploader":null,"webpage_url":null}"#)
    }
}
