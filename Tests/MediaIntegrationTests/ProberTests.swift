import XCTest
import Foundation
@testable import Media
import TestSupport

/// ffprobe under the Prober: real media made with ffmpeg, non-media, playlists that must not be
/// followed, and fake ffprobe scripts (time limit, arguments, failures). Needs ffmpeg and ffprobe,
/// hence an integration target; `normalize` on hand-written replies is in MediaTests.
final class ProberTests: XCTestCase {
    /// What ffmpeg is asked to make (the expectations below come from these).
    static let width = 320, height = 240, fps = 25, seconds = 2
    static let videoSampleRate = 48000, videoChannels = 2
    static let audioSampleRate = 44100, audioChannels = 1

    nonisolated(unsafe) static var directory = ""
    static var clip: String { directory + "/clip.mp4" }
    static var ntsc: String { directory + "/ntsc.mp4" }
    static var tone: String { directory + "/tone.m4a" }

    override class func setUp() {
        super.setUp()
        directory = NSTemporaryDirectory() + "prober-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ffmpeg(["-f", "lavfi", "-i", "testsrc=size=\(width)x\(height):rate=\(fps):duration=\(seconds)",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=\(videoSampleRate):duration=\(seconds)",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "\(videoChannels)", "-shortest", clip])
        ffmpeg(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=30000/1001:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p", ntsc])
        ffmpeg(["-f", "lavfi", "-i", "sine=frequency=660:sample_rate=\(audioSampleRate):duration=\(seconds)",
                "-ac", "\(audioChannels)", "-c:a", "aac", tone])
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    static func ffmpeg(_ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"] + arguments
        try! process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "ffmpeg failed: \(arguments)")
    }

    // MARK: helpers

    func write(_ text: String, _ name: String) -> String {
        let path = ProberTests.directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func script(_ body: String) -> String {
        let path = ProberTests.directory + "/fake-ffprobe-\(UUID().uuidString).sh"
        _ = FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n\(body)\n".utf8),
                                       attributes: [.posixPermissions: 0o755])
        return path
    }

    // MARK: real media

    func testVideoWithAudio() throws {
        let outcome = Prober().probe(path: ProberTests.clip)
        XCTAssertNil(outcome.failure)
        let root = try JSONHelpers.object(outcome.json)
        XCTAssertEqual(Set(root.keys), ["duration", "format_name", "bit_rate", "size", "streams"])
        XCTAssertEqual(try XCTUnwrap(JSONHelpers.double(root["duration"])), Double(ProberTests.seconds), accuracy: 0.2)
        XCTAssertTrue((root["format_name"] as? String ?? "").contains("mp4"))
        let size = try FileManager.default.attributesOfItem(atPath: ProberTests.clip)[.size] as? Int
        XCTAssertEqual((root["size"] as? NSNumber)?.intValue, size)
        XCTAssertGreaterThan(try XCTUnwrap(JSONHelpers.double(root["bit_rate"])), 0)

        let video = try XCTUnwrap(JSONHelpers.streams(root, "video").first)
        XCTAssertEqual(JSONHelpers.streams(root, "video").count, 1)
        XCTAssertEqual(video["codec"] as? String, "h264")
        XCTAssertEqual((video["width"] as? NSNumber)?.intValue, ProberTests.width)
        XCTAssertEqual((video["height"] as? NSNumber)?.intValue, ProberTests.height)
        XCTAssertEqual(try XCTUnwrap(JSONHelpers.double(video["fps"])), Double(ProberTests.fps), accuracy: 0.001)
        XCTAssertTrue(video["sample_rate"] is NSNull && video["channels"] is NSNull)

        let audio = try XCTUnwrap(JSONHelpers.streams(root, "audio").first)
        XCTAssertEqual(audio["codec"] as? String, "aac")
        XCTAssertEqual((audio["sample_rate"] as? NSNumber)?.intValue, ProberTests.videoSampleRate)
        XCTAssertEqual((audio["channels"] as? NSNumber)?.intValue, ProberTests.videoChannels)
        XCTAssertTrue(audio["fps"] is NSNull && audio["width"] is NSNull && audio["height"] is NSNull)
        for stream in root["streams"] as? [[String: Any]] ?? [] {
            XCTAssertEqual(Set(stream.keys), ["type", "codec", "width", "height", "fps", "sample_rate", "channels"])
        }

        let json = try XCTUnwrap(outcome.json)
        JSONHelpers.assertNumber(json, "sample_rate", "\(ProberTests.videoSampleRate)")
        JSONHelpers.assertNumber(json, "width", "\(ProberTests.width)")
        JSONHelpers.assertNumber(json, "size", "\(size ?? -1)")
    }

    func testNTSCFrameRate() throws {
        let root = try JSONHelpers.object(Prober().probe(path: ProberTests.ntsc).json)
        let video = try XCTUnwrap(JSONHelpers.streams(root, "video").first)
        XCTAssertEqual(try XCTUnwrap(JSONHelpers.double(video["fps"])), 29.97, accuracy: 0.001)
    }

    func testAudioOnly() throws {
        let outcome = Prober().probe(path: ProberTests.tone)
        XCTAssertNil(outcome.failure)
        let root = try JSONHelpers.object(outcome.json)
        XCTAssertEqual(JSONHelpers.streams(root, "video").count, 0)
        let audio = try XCTUnwrap(JSONHelpers.streams(root, "audio").first)
        XCTAssertEqual((audio["sample_rate"] as? NSNumber)?.intValue, ProberTests.audioSampleRate)
        XCTAssertEqual((audio["channels"] as? NSNumber)?.intValue, ProberTests.audioChannels)
        XCTAssertEqual(try XCTUnwrap(JSONHelpers.double(root["duration"])), Double(ProberTests.seconds), accuracy: 0.2)
    }

    // MARK: not media

    func testRandomBytesAreNotMedia() {
        var rng = TestRNG(self)
        let noise = Data(rng.bytes(65536))
        let path = ProberTests.directory + "/noise.bin"
        _ = FileManager.default.createFile(atPath: path, contents: noise)
        let outcome = Prober().probe(path: path)
        XCTAssertNil(outcome.json)
        XCTAssertEqual(outcome.failure?.kind, .notMedia, "\(String(describing: outcome.failure))")
        // The detail (for the log) is ffprobe's own complaint, naming the file.
        XCTAssertTrue(outcome.failure?.detail.contains(path) == true, "\(String(describing: outcome.failure))")
    }

    func testEmptyAndMissingFilesAreErrorsNotCrashes() {
        let empty = write("", "empty.mp4")
        for path in [empty, ProberTests.directory + "/does-not-exist.mp4"] {
            let outcome = Prober().probe(path: path)
            XCTAssertNil(outcome.json, path)
            XCTAssertEqual(outcome.failure?.kind, .notMedia, path)
            XCTAssertFalse((outcome.failure?.detail ?? "").isEmpty, path)
        }
    }

    func testPlaylistsAndConcatListsAreNotFollowed() throws {
        // Plain ffprobe would read each of these as the clip next to it (relative, "safe" paths).
        let cases = [
            ("hls.m3u8", "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\nclip.mp4\n#EXT-X-ENDLIST\n"),
            ("hls-abs.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\nfile://\(ProberTests.clip)\n#EXT-X-ENDLIST\n"),
            ("hls-passwd.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"),
            ("list.txt", "ffconcat version 1.0\nfile 'clip.mp4'\n"),
            ("list.ffconcat", "ffconcat version 1.0\nfile 'clip.mp4'\nduration 2.0\n"),
            ("disguised.mp4", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\nclip.mp4\n#EXT-X-ENDLIST\n"),
        ]
        let passwd = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8)) ?? ""
        let firstLine = passwd.split(separator: "\n").first.map(String.init) ?? "root:x:0:0"
        for (name, text) in cases {
            let outcome = Prober().probe(path: write(text, name))
            XCTAssertNil(outcome.json, "\(name) was followed: \(outcome.json ?? "")")
            XCTAssertEqual(outcome.failure?.kind, .notMedia, name)
            XCTAssertFalse((outcome.failure?.detail ?? "").contains(firstLine), name)
        }
    }

    // MARK: fake ffprobe

    func testTimeoutKillsASlowFFprobe() {
        let slow = script("sleep 30")
        let start = Date()
        let outcome = Prober(ffprobe: slow, timeoutSeconds: 1).probe(path: ProberTests.clip)
        let took = Date().timeIntervalSince(start)
        XCTAssertNil(outcome.json)
        XCTAssertEqual(outcome.failure?.kind, .timeout, "\(String(describing: outcome.failure))")
        XCTAssertTrue(outcome.failure?.detail.contains("timed out") == true, "\(String(describing: outcome.failure))")
        XCTAssertGreaterThanOrEqual(took, 0.9)
        XCTAssertLessThan(took, 5, "the time limit was not enforced")
    }

    /// A job that lost its lease stops its probe: ffprobe is killed at once, long before its limit.
    func testStopKillsARunningFFprobe() {
        let slow = script("sleep 30")
        let start = Date()
        let outcome = Prober(ffprobe: slow, timeoutSeconds: 60).probe(path: ProberTests.clip,
                                                                      shouldStop: { Date().timeIntervalSince(start) > 0.3 })
        let took = Date().timeIntervalSince(start)
        XCTAssertNil(outcome.json)
        XCTAssertEqual(outcome.failure?.kind, .stopped, "\(String(describing: outcome.failure))")
        XCTAssertGreaterThanOrEqual(took, 0.3)
        XCTAssertLessThan(took, 3, "the stop was not obeyed")
    }

    func testMissingFFprobeIsAnError() {
        let outcome = Prober(ffprobe: ProberTests.directory + "/no-such-ffprobe", timeoutSeconds: 5).probe(path: ProberTests.clip)
        XCTAssertNil(outcome.json)
        XCTAssertEqual(outcome.failure?.kind, .failed, "\(String(describing: outcome.failure))")
        XCTAssertFalse((outcome.failure?.detail ?? "").isEmpty)
    }

    func testFFprobeIsConfinedByItsArguments() throws {
        let argsFile = ProberTests.directory + "/args-\(UUID().uuidString)"
        let fake = script("""
            for a in "$@"; do printf '%s\\n' "$a" >> '\(argsFile)'; done
            echo '{"streams":[{"codec_type":"video","codec_name":"vp9","width":"64","height":48,"avg_frame_rate":"24/1"}],"format":{"duration":"1.5"}}'
            """)
        let outcome = Prober(ffprobe: fake, timeoutSeconds: 10).probe(path: ProberTests.clip)
        let args = try String(contentsOfFile: argsFile, encoding: .utf8).split(separator: "\n").map(String.init)

        let protocols = try XCTUnwrap(args.firstIndex(of: "-protocol_whitelist"), "\(args)")
        XCTAssertEqual(args[protocols + 1], "file")
        let formats = try XCTUnwrap(args.firstIndex(of: "-format_whitelist"), "\(args)")
        let allowed = Set(args[formats + 1].split(separator: ",").map(String.init))
        XCTAssertTrue(allowed.isSuperset(of: ["mov", "mp4", "m4a", "matroska", "webm", "mp3", "wav"]), "\(allowed)")
        for demuxer in ["hls", "concat", "dash", "image2", "applehttp", "ffmetadata", "tee", "data", "lavfi", "subfile"] {
            XCTAssertFalse(allowed.contains(demuxer), "\(demuxer) must not be allowed")
        }
        let input = try XCTUnwrap(args.firstIndex(of: "-i"))
        XCTAssertEqual(args[input + 1], "file:" + ProberTests.clip)
        XCTAssertEqual(args.last, "file:" + ProberTests.clip, "nothing after the input")

        // Its output is normalised.
        let root = try JSONHelpers.object(outcome.json)
        XCTAssertEqual(JSONHelpers.double(root["duration"]), 1.5)
        let video = try XCTUnwrap(JSONHelpers.streams(root, "video").first)
        XCTAssertEqual((video["width"] as? NSNumber)?.intValue, 64)
        XCTAssertEqual(JSONHelpers.double(video["fps"]), 24)
        XCTAssertTrue(root["format_name"] is NSNull && root["size"] is NSNull)
    }

    func testFailingFFprobeReportsItsLastErrorLine() {
        let failing = script("""
            echo 'first complaint' >&2
            echo 'file:/some/where.bin: Invalid data found when processing input' >&2
            exit 1
            """)
        let outcome = Prober(ffprobe: failing, timeoutSeconds: 10).probe(path: ProberTests.clip)
        XCTAssertNil(outcome.json)
        XCTAssertEqual(outcome.failure?.kind, .notMedia)
        let error = outcome.failure?.detail ?? ""
        XCTAssertTrue(error.contains("Invalid data found"), error)
        XCTAssertFalse(error.contains("first complaint"), error)
        XCTAssertFalse(error.contains("file:/some"), "the protocol prefix is stripped: \(error)")
        XCTAssertTrue(error.contains("/some/where.bin"), error)
    }

    func testFFprobeWithoutStreamsOrOutputIsAnError() {
        for body in [#"echo '{"format":{"duration":"1.0"},"streams":[]}'"#, "exit 0", "echo 'not json'",
                     #"echo '{"streams":[{"codec_type":"data"}]}'"#] {
            let outcome = Prober(ffprobe: script(body), timeoutSeconds: 10).probe(path: ProberTests.clip)
            XCTAssertNil(outcome.json, body)
            XCTAssertEqual(outcome.failure?.kind, .notMedia, "\(body): \(String(describing: outcome.failure))")
        }
    }
}
