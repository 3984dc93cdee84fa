import XCTest
import Foundation
@testable import Media

/// A download's options as fixed yt-dlp arguments, and the playlist runner's argv and parser.
final class YTDLPOptionsTests: XCTestCase {
    let limits = MediaLimits(maxBytes: 1000, maxDurationSeconds: 60, wallSeconds: 30, socketTimeoutSeconds: 7)
    let runner = YTDLP(executable: "/opt/yt-dlp")

    func argv(_ options: MediaOptions, preset: QualityPreset = .best, url: String = "https://example.com/v") -> [String] {
        runner.downloadArguments(url: url, preset: preset, options: options, directory: "/jobs/7", proxy: nil, allowGeneric: false,
                                 limits: limits, marker: "fgm")
    }

    /// What the options add to the preset's arguments: from `-f` up to the progress options.
    func added(_ options: MediaOptions, preset: QualityPreset = .best) -> [String] {
        let args = argv(options, preset: preset)
        return Array(args[args.firstIndex(of: "-f")!..<args.firstIndex(of: "--newline")!])
    }

    func testNoOptionsIsThePresetAlone() {
        for preset in QualityPreset.allCases {
            XCTAssertEqual(added(MediaOptions(), preset: preset), YTDLP.formatArguments(preset), preset.rawValue)
        }
    }

    func testContainers() {
        XCTAssertEqual(added(MediaOptions(container: "mp4")), [
            "-f", "bv*[ext=mp4]+ba[ext=m4a]/b[ext=mp4]/bv*+ba/b", "--merge-output-format", "mp4", "--remux-video", "mp4"])
        XCTAssertEqual(added(MediaOptions(container: "mkv")), ["-f", "bv*+ba/b", "--merge-output-format", "mkv", "--remux-video", "mkv"])
        XCTAssertEqual(added(MediaOptions(container: "webm")), [
            "-f", "bv*[ext=webm]+ba[ext=webm]/b[ext=webm]/bv*+ba/b", "--merge-output-format", "webm", "--recode-video", "webm"])
        for audio in ["mp3", "m4a", "opus", "wav"] {
            XCTAssertEqual(added(MediaOptions(container: audio)), ["-f", "ba/b", "-x", "--audio-format", audio])
            // An audio container wins over a video preset and a height.
            XCTAssertEqual(added(MediaOptions(container: audio, maxHeight: 720), preset: .mp4), ["-f", "ba/b", "-x", "--audio-format", audio])
        }
    }

    func testAudioOnly() {
        XCTAssertEqual(added(MediaOptions(audioOnly: true)), ["-f", "ba/b", "-x", "--audio-format", "m4a"])
        XCTAssertEqual(added(MediaOptions(container: "mkv", audioOnly: true, maxHeight: 480)), ["-f", "ba/b", "-x", "--audio-format", "m4a"])
        XCTAssertEqual(added(MediaOptions(container: "opus", audioOnly: true)), ["-f", "ba/b", "-x", "--audio-format", "opus"])
    }

    func testHeightCapIsTheLowerOfPresetAndOptionAndLetsUnknownHeightsPass() {
        XCTAssertEqual(added(MediaOptions(maxHeight: 480)), ["-f", "bv*[height<=?480]+ba/b[height<=?480]"])
        XCTAssertEqual(added(MediaOptions(maxHeight: 480), preset: .p720), ["-f", "bv*[height<=?480]+ba/b[height<=?480]"])
        XCTAssertEqual(added(MediaOptions(maxHeight: 1080), preset: .p360), ["-f", "bv*[height<=?360]+ba/b[height<=?360]"])
        XCTAssertEqual(added(MediaOptions(maxHeight: 240), preset: .mp4), [
            "-f", "bv*[ext=mp4][height<=?240]+ba[ext=m4a]/b[ext=mp4][height<=?240]/bv*[height<=?240]+ba/b[height<=?240]",
            "--merge-output-format", "mp4"])
        XCTAssertEqual(added(MediaOptions(container: "webm", maxHeight: 144)), [
            "-f", "bv*[ext=webm][height<=?144]+ba[ext=webm]/b[ext=webm][height<=?144]/bv*[height<=?144]+ba/b[height<=?144]",
            "--merge-output-format", "webm", "--recode-video", "webm"])
    }

    func testClip() {
        XCTAssertEqual(added(MediaOptions(clip: MediaClip(start: 1, end: 3))), ["-f", "bv*+ba/b", "--download-sections", "*1.000-3.000"])
        XCTAssertEqual(added(MediaOptions(clip: MediaClip(start: 12.5))), ["-f", "bv*+ba/b", "--download-sections", "*12.500-inf"])
        XCTAssertFalse(argv(MediaOptions(clip: MediaClip(start: 1, end: 3))).contains("--force-keyframes-at-cuts"))
    }

    /// Whole milliseconds as integers: no locale, no exponent, no "0.30000000000000004".
    func testClipBoundsAreFormattedWithoutLocaleOrExponent() {
        XCTAssertEqual(MediaClip(start: 0, end: 0.001).section, "*0.000-0.001")
        XCTAssertEqual(MediaClip(start: 0.1 + 0.2, end: 2.0004).section, "*0.300-2.000")
        XCTAssertEqual(MediaClip(start: 59.9996, end: 86_400).section, "*60.000-86400.000")
        XCTAssertEqual(MediaClip(start: 1e6, end: 1e7).section, "*1000000.000-10000000.000")
        XCTAssertEqual(MediaClip(start: 0.0105, end: 1.5).section, "*0.011-1.500")
        for bad in [MediaClip(start: -1, end: 2), MediaClip(start: .nan, end: 2), MediaClip(start: 1, end: .infinity),
                    MediaClip(start: 3, end: 3), MediaClip(start: 3, end: 1), MediaClip(start: 2e7), MediaClip(start: 0, end: -0.5)] {
            XCTAssertNil(bad.section, "\(bad)")
            XCTAssertFalse(argv(MediaOptions(clip: bad)).contains("--download-sections"), "\(bad)")
        }
    }

    func testSubtitlesEmbeddedOrSidecar() {
        XCTAssertEqual(added(MediaOptions(subtitles: ["en", "pt-BR"])), ["-f", "bv*+ba/b", "--sub-langs", "en,pt-BR", "--embed-subs"])
        XCTAssertEqual(added(MediaOptions(subtitles: ["en"], subtitleSidecar: true)), ["-f", "bv*+ba/b", "--write-subs", "--sub-langs", "en"])
        XCTAssertEqual(added(MediaOptions(subtitleSidecar: true)), ["-f", "bv*+ba/b"])
        let many = (0..<14).map { "l" + String(UnicodeScalar(UInt8(97 + $0))) }
        XCTAssertEqual(MediaOptions(subtitles: many).languages, Array(many.prefix(10)))
    }

    /// No text of an option reaches yt-dlp: only the fixed values, numbers and plain language codes.
    func testAnOptionNeverLetsTextThrough() {
        let hostile = ["--exec", "touch /tmp/owned", "mp4 --exec x", "all", "ALL", "en,all", ".*", "en|fr", "-live_chat",
                       "en.*", "e n", "en\n--exec", "", "1en", "zh_Hans", String(repeating: "a", count: 21), "é"]
        for text in hostile {
            let options = MediaOptions(container: text, subtitles: [text, "en"], subtitleSidecar: true)
            let args = argv(options)
            XCTAssertEqual(added(options), ["-f", "bv*+ba/b", "--write-subs", "--sub-langs", "en"], text)
            XCTAssertFalse(args.dropLast(2).contains(text), text)
            XCTAssertEqual(Array(args.suffix(2)), ["--", "https://example.com/v"])
            XCTAssertEqual(args.filter { $0 == "--" }.count, 1)
        }
        for height in [0, -720, 10_001, Int.max, Int.min] {
            XCTAssertEqual(added(MediaOptions(maxHeight: height)), ["-f", "bv*+ba/b"], "\(height)")
        }
        for forbidden in ["--exec", "--netrc-cmd", "--load-info-json", "--batch-file", "--enable-file-urls", "--compat-options",
                          "--downloader", "--external-downloader", "--force-keyframes-at-cuts", "--write-auto-subs", "-k"] {
            let everything = MediaOptions(container: "webm", audioOnly: false, maxHeight: 480, clip: MediaClip(start: 1, end: 2),
                                          subtitles: ["en"], subtitleSidecar: false)
            XCTAssertFalse(argv(everything).contains(forbidden), forbidden)
        }
    }

    // MARK: playlists

    func testPlaylistArguments() {
        let args = runner.playlistArguments(url: "-I", limit: 5, proxy: "http://127.0.0.1:9", allowGeneric: true, socketTimeoutSeconds: 4)
        XCTAssertEqual(Array(args.suffix(2)), ["--", "-I"])
        XCTAssertTrue(args.contains("--flat-playlist") && args.contains("-J") && args.contains("--ignore-config"))
        XCTAssertEqual(args[args.firstIndex(of: "-I")! + 1], "1:5")
        XCTAssertEqual(args[args.firstIndex(of: "--proxy")! + 1], "http://127.0.0.1:9")
        XCTAssertFalse(args.contains("--no-playlist") || args.contains("--use-extractors"))
        for (limit, item) in [(0, "1:1"), (-3, "1:1"), (100, "1:100"), (101, "1:100"), (Int.max, "1:100")] {
            let a = runner.playlistArguments(url: "u", limit: limit, proxy: nil, allowGeneric: false, socketTimeoutSeconds: 4)
            XCTAssertEqual(a[a.firstIndex(of: "-I")! + 1], item)
            XCTAssertTrue(a.contains("--use-extractors"))
        }
    }

    func entries(_ json: String, limit: Int = 100) -> [PlaylistEntry]? {
        YTDLPPlaylist.entries(Data(json.utf8), requestedURL: "http://127.0.0.1:8/page.html", limit: limit)
    }

    /// The shapes yt-dlp 2026.10.26 printed: the generic extractor's `<video>` tags (entries
    /// sharing the page, each with its media URL), an RSS feed (url_transparent, smuggled data),
    /// embedded iframes (url entries, no title).
    func testPlaylistEntriesAsYTDLPPrintsThem() {
        XCTAssertEqual(entries("""
            {"_type": "playlist", "title": "Two videos", "webpage_url": "http://127.0.0.1:8/p1.html", "entries": [
             {"id": "p1-1", "title": "Two videos (1)", "url": "http://127.0.0.1:8/small.mp4", "webpage_url": "http://127.0.0.1:8/p1.html"},
             {"id": "p1-2", "title": "Two videos (2)", "url": "http://127.0.0.1:8/big.mp4", "webpage_url": "http://127.0.0.1:8/p1.html"}]}
            """), [PlaylistEntry(url: "http://127.0.0.1:8/small.mp4", title: "Two videos (1)"),
                   PlaylistEntry(url: "http://127.0.0.1:8/big.mp4", title: "Two videos (2)")])
        XCTAssertEqual(entries("""
            {"_type": "playlist", "title": "Feed", "entries": [{"_type": "url_transparent", "title": "Episode A",
             "url": "http://127.0.0.1:8/small.mp4#__youtubedl_smuggle=%7B%22force_videoid%22%3A+%22a%22%7D"}]}
            """), [PlaylistEntry(url: "http://127.0.0.1:8/small.mp4", title: "Episode A")])
        XCTAssertEqual(entries("""
            {"_type": "playlist", "title": "Frames", "entries": [{"_type": "url", "url": "https://www.youtube.com/embed/aaaaaaaaaaa",
             "title": null}, {"_type": "url", "url": "https://www.youtube.com/watch?v=b", "webpage_url": "https://x/y", "title": "B"}]}
            """), [PlaylistEntry(url: "https://www.youtube.com/embed/aaaaaaaaaaa", title: nil),
                   PlaylistEntry(url: "https://www.youtube.com/watch?v=b", title: "B")])
        // A video entry of a page of its own (a site's playlist, fully extracted) gets that page.
        XCTAssertEqual(entries("""
            {"_type": "playlist", "webpage_url": "https://s/list", "entries": [{"title": "V", "url": "https://cdn/v.mp4",
             "webpage_url": "https://s/watch?v=1"}]}
            """), [PlaylistEntry(url: "https://s/watch?v=1", title: "V")])
    }

    func testPlaylistEntriesOnlyHTTPWithAHostAndTheLimit() {
        let list = """
            {"_type": "playlist", "entries": [null, 7, {"url": "file:///etc/passwd"}, {"url": "javascript:alert(1)"},
             {"url": "ftp://h/x"}, {"url": "http://"}, {"url": "http:// h/x"}, {"url": "http://h/\\u0000"}, {"url": 5},
             {"_type": "playlist", "url": "https://h/nested"}, {"url": "HTTPS://H/ok", "title": " \\u0007Title\\n "},
             {"url": "http://h/2"}, {"url": "http://h/3"}]}
            """
        XCTAssertEqual(entries(list), [PlaylistEntry(url: "HTTPS://H/ok", title: "Title"), PlaylistEntry(url: "http://h/2", title: nil),
                                       PlaylistEntry(url: "http://h/3", title: nil)])
        XCTAssertEqual(entries(list, limit: 2)?.map(\.url), ["HTTPS://H/ok", "http://h/2"])
        XCTAssertEqual(entries(#"{"_type": "playlist", "entries": []}"#), [])
        XCTAssertEqual(entries(#"{"entries": [{"url": "https://h/\#(String(repeating: "a", count: 5000))"}]}"#), [])
        XCTAssertEqual(entries(#"{"entries": [{"url": "https://h/", "title": "\#(String(repeating: "t", count: 400))"}]}"#)?
            .first?.title?.count, 300)
    }

    func testOneVideoIsOneEntryAndNonsenseIsNil() {
        XCTAssertEqual(entries(#"{"_type": "video", "title": "One", "url": "http://127.0.0.1:8/v.mp4"}"#),
                       [PlaylistEntry(url: "http://127.0.0.1:8/page.html", title: "One")])
        XCTAssertNil(entries("[]"))
        XCTAssertNil(entries("not json"))
        XCTAssertNil(entries(""))
    }
}
