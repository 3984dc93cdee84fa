import XCTest
import Foundation
@testable import Media
import Support

/// The options and the playlist runner with the real pinned yt-dlp against the same loopback
/// origin, serving more ffmpeg-made media under /opt/; every result read back with ffprobe.
extension YTDLPIntegrationTests {
    static let vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello\n\n00:00:01.500 --> 00:00:02.000\nWorld\n"

    /// The options' media, made once, in the origin's root under opt/.
    static let optionMedia: Void = {
        let dir = root + "/opt"
        try! FileManager.default.createDirectory(atPath: dir + "/hls", withIntermediateDirectories: true)
        // 6 s, a keyframe every second (25 fps, GOP 25); moov first: the origin serves no ranges.
        ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=6:size=320x240:rate=25", "-f", "lavfi", "-i", "sine=duration=6", "-shortest",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac", "-movflags", "+faststart", dir + "/six.mp4"])
        for (name, size) in [("small", "320x240"), ("big", "640x480")] {
            ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=2:size=\(size):rate=25", "-f", "lavfi", "-i", "sine=duration=2", "-shortest",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", dir + "/\(name).mp4"])
        }
        ffmpeg(["-f", "lavfi", "-i", "testsrc=duration=2:size=160x120:rate=25", "-f", "lavfi", "-i", "sine=duration=2", "-shortest",
                "-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus", dir + "/w.webm"])
        ffmpeg(["-i", dir + "/small.mp4", "-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", dir + "/hls/index.m3u8"])
        func write(_ text: String, _ name: String) { try! text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        write(vtt, "en.vtt")
        // An HLS subtitle rendition: one WebVTT segment.
        write("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.0,\n../en.vtt\n#EXT-X-ENDLIST\n",
              "hls/subs.m3u8")
        write("""
            #EXTM3U
            #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,URI="subs.m3u8"
            #EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x240,SUBTITLES="subs"
            index.m3u8

            """, "hls/master.m3u8")
        write(#"<html><head><title>Tracked</title></head><body><video src="small.mp4"><track kind="subtitles" srclang="en" src="en.vtt"></video></body></html>"#,
              "track.html")
        write(#"<html><head><title>Sizes</title></head><body><video><source src="small.mp4" type="video/mp4" res="240"><source src="big.mp4" type="video/mp4" res="480"></video></body></html>"#,
              "sizes.html")
        write(#"<html><head><title>Three videos</title></head><body><video src="small.mp4"></video><video src="big.mp4"></video><video src="six.mp4"></video></body></html>"#,
              "three.html")
        write("""
            <?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title><link>\(base)/opt/</link>
            <item><title>Episode A</title><enclosure url="\(base)/opt/small.mp4" type="video/mp4" length="1"/><guid>a</guid></item>
            <item><title>Episode B</title><enclosure url="\(base)/opt/big.mp4" type="video/mp4" length="1"/><guid>b</guid></item>
            </channel></rss>
            """, "feed.rss")
    }()

    /// A download of /opt/`path` with `options` that must succeed.
    func download(_ path: String, preset: QualityPreset = .best, _ options: MediaOptions,
                  file: StaticString = #filePath, line: UInt = #line) throws -> MediaDownloadResult {
        _ = YTDLPIntegrationTests.optionMedia
        return try success(ytdlp.download(url: YTDLPIntegrationTests.base + "/opt" + path, preset: preset, options: options,
                                          directory: jobDir, proxy: nil, allowGeneric: true, limits: limits(),
                                          progress: { _ in }, shouldStop: { false }), file: file, line: line)
    }

    func names() -> [String] { entries(jobDir) }

    struct Probed {
        var format = ""
        var duration = 0.0
        /// "video h264 320x240", "audio aac", "subtitle mov_text eng".
        var streams: [String] = []
    }

    /// ffprobe's view of a file: container, duration, streams.
    func probe(_ path: String) throws -> Probed {
        let process = Process()
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let format = try XCTUnwrap(root["format"] as? [String: Any])
        var probed = Probed(format: format["format_name"] as? String ?? "", duration: Double(format["duration"] as? String ?? "") ?? -1)
        for stream in root["streams"] as? [[String: Any]] ?? [] {
            var words = [stream["codec_type"] as? String ?? "?", stream["codec_name"] as? String ?? "?"]
            if let w = stream["width"] as? Int, let h = stream["height"] as? Int { words.append("\(w)x\(h)") }
            if let language = (stream["tags"] as? [String: Any])?["language"] as? String, words[0] == "subtitle" { words.append(language) }
            probed.streams.append(words.joined(separator: " "))
        }
        return probed
    }

    // MARK: clip

    /// Stream copy cuts at keyframes: with one every second the clip ran 2.20 s (1-3) and 2.18 s
    /// (1.5-3.5) here; 0.3 s of tolerance over the asked length, never shorter than 1.9 s.
    func testClipOfASixSecondFile() throws {
        for (clip, expected) in [(MediaClip(start: 1, end: 3), 2.0), (MediaClip(start: 1.5, end: 3.5), 2.0), (MediaClip(start: 4), 2.0)] {
            let result = try download("/six.mp4", MediaOptions(clip: clip))
            let probed = try probe(result.path)
            XCTAssertGreaterThanOrEqual(probed.duration, expected - 0.1, "\(clip)")
            XCTAssertLessThanOrEqual(probed.duration, expected + 0.3, "\(clip)")
            XCTAssertEqual(probed.streams, ["video h264 320x240", "audio aac"])
            XCTAssertEqual(names(), ["six.mp4"])
        }
    }

    // MARK: containers

    func testMKVIsMatroska() throws {
        let result = try download("/small.mp4", MediaOptions(container: "mkv"))
        XCTAssertEqual(result.ext, "mkv")
        let probed = try probe(result.path)
        // ffprobe names matroska and webm one demuxer; H.264 and AAC are what webm cannot hold.
        XCTAssertEqual(probed.format, "matroska,webm")
        XCTAssertEqual(probed.streams, ["video h264 320x240", "audio aac"])
        XCTAssertEqual(names(), ["small.mkv"])
    }

    func testWebMIsReencodedOnlyWhenItIsNotWebMAlready() throws {
        let recoded = try download("/small.mp4", MediaOptions(container: "webm"))
        XCTAssertEqual(recoded.ext, "webm")
        XCTAssertEqual(try probe(recoded.path).streams, ["video vp9 320x240", "audio opus"])
        let kept = try download("/w.webm", MediaOptions(container: "webm"))
        XCTAssertEqual(kept.ext, "webm")
        XCTAssertEqual(try probe(kept.path).streams, ["video vp8 160x120", "audio opus"])
        XCTAssertEqual(FileManager.default.contents(atPath: kept.path), FileManager.default.contents(atPath: YTDLPIntegrationTests.root + "/opt/w.webm"))
    }

    func testAudioOnlyAndMP3HaveNoVideo() throws {
        let mp3 = try download("/small.mp4", MediaOptions(container: "mp3"))
        XCTAssertEqual(mp3.ext, "mp3")
        XCTAssertEqual(try probe(mp3.path).streams, ["audio mp3"])
        let audio = try download("/small.mp4", preset: .p720, MediaOptions(audioOnly: true))
        XCTAssertEqual(audio.ext, "m4a")
        XCTAssertEqual(try probe(audio.path).streams, ["audio aac"])
        XCTAssertEqual(names(), ["small.m4a"])
    }

    // MARK: height

    /// The generic extractor reads `<source res="H">` as the format's height.
    func testHeightCapPicksTheFormatUnderIt() throws {
        for (options, preset, size) in [(MediaOptions(maxHeight: 240), QualityPreset.best, "320x240"),
                                         (MediaOptions(maxHeight: 360), .best, "320x240"),
                                         (MediaOptions(maxHeight: 480), .best, "640x480"),
                                         (MediaOptions(maxHeight: 1080), .p360, "320x240"),
                                         (MediaOptions(), .best, "640x480")] {
            let result = try download("/sizes.html", preset: preset, options)
            XCTAssertEqual(try probe(result.path).streams.first, "video h264 \(size)", "\(options) \(preset)")
        }
    }

    // MARK: subtitles

    func testSubtitlesFromAnHTML5TrackEmbedded() throws {
        let mp4 = try download("/track.html", MediaOptions(subtitles: ["en"]))
        XCTAssertEqual(try probe(mp4.path).streams, ["video h264 320x240", "audio aac", "subtitle mov_text eng"])
        XCTAssertEqual(mp4.sidecars, [])
        XCTAssertEqual(names(), [(mp4.path as NSString).lastPathComponent], "the .vtt is gone once embedded")
        let mkv = try download("/track.html", MediaOptions(container: "mkv", subtitles: ["en"]))
        XCTAssertEqual(try probe(mkv.path).streams, ["video h264 320x240", "audio aac", "subtitle webvtt eng"])
    }

    func testSubtitlesFromAnHTML5TrackAsSidecar() throws {
        let result = try download("/track.html", MediaOptions(subtitles: ["en", "fr"], subtitleSidecar: true))
        XCTAssertEqual(try probe(result.path).streams, ["video h264 320x240", "audio aac"])
        let stem = ((result.path as NSString).lastPathComponent as NSString).deletingPathExtension
        let dir = try XCTUnwrap(YTDLP.realPath(jobDir))
        XCTAssertEqual(result.sidecars, [MediaSidecar(path: dir + "/\(stem).en.vtt", language: "en", ext: "vtt",
                                                      sizeBytes: Int64(YTDLPIntegrationTests.vtt.utf8.count))])
        XCTAssertEqual(String(decoding: FileManager.default.contents(atPath: result.sidecars[0].path) ?? Data(), as: UTF8.self),
                       YTDLPIntegrationTests.vtt)
        XCTAssertEqual(names(), ["\(stem).en.vtt", "\(stem).mp4"], "fr is not offered: no file, no failure")
        // Audio only keeps its sidecar too.
        let audio = try download("/track.html", MediaOptions(container: "mp3", subtitles: ["en"], subtitleSidecar: true))
        XCTAssertEqual(audio.sidecars.map(\.language), ["en"])
        XCTAssertEqual(names(), ["\(stem).en.vtt", "\(stem).mp3"])
    }

    func testSubtitlesFromAnHLSRenditionAsSidecar() throws {
        let result = try download("/hls/master.m3u8", MediaOptions(subtitles: ["en"], subtitleSidecar: true))
        XCTAssertEqual(result.sidecars.map(\.language), ["en"])
        XCTAssertEqual(result.sidecars.map(\.ext), ["vtt"])
        let text = String(decoding: FileManager.default.contents(atPath: result.sidecars[0].path) ?? Data(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("WEBVTT") && text.contains("Hello"), text)
    }

    // MARK: playlists

    func playlist(_ path: String, limit: Int) -> Result<[PlaylistEntry], MediaFetchError> {
        _ = YTDLPIntegrationTests.optionMedia
        return ytdlp.playlist(url: YTDLPIntegrationTests.base + "/opt" + path, limit: limit, proxy: nil, timeoutSeconds: 30)
    }

    func testSeveralVideoTagsAreAPlaylist() throws {
        let base = YTDLPIntegrationTests.base + "/opt"
        XCTAssertEqual(try playlist("/three.html", limit: 2).get(), [
            PlaylistEntry(url: base + "/small.mp4", title: "Three videos (1)"),
            PlaylistEntry(url: base + "/big.mp4", title: "Three videos (2)")])
        XCTAssertEqual(try playlist("/three.html", limit: 100).get().map(\.url), [base + "/small.mp4", base + "/big.mp4", base + "/six.mp4"])
        XCTAssertEqual(try playlist("/three.html", limit: 1).get().count, 1)
    }

    func testAnRSSFeedIsAPlaylist() throws {
        let base = YTDLPIntegrationTests.base + "/opt"
        XCTAssertEqual(try playlist("/feed.rss", limit: 10).get(), [
            PlaylistEntry(url: base + "/small.mp4", title: "Episode A"), PlaylistEntry(url: base + "/big.mp4", title: "Episode B")])
    }

    func testOneVideoIsOneEntryAndAMissingPageFails() throws {
        XCTAssertEqual(try playlist("/small.mp4", limit: 5).get(), [PlaylistEntry(url: YTDLPIntegrationTests.base + "/opt/small.mp4", title: "small")])
        XCTAssertEqual(try playlist("/track.html", limit: 5).get().count, 1)
        switch playlist("/missing.html", limit: 5) {
        case .success(let entries): XCTFail("\(entries)")
        case .failure(let error): XCTAssertEqual(error.code, .unavailable)
        }
    }
}
