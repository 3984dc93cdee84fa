import XCTest
import Foundation
@testable import Media
import TestSupport

/// `Prober.normalize` and `Prober.rate` on hand-written ffprobe replies: no ffmpeg, no process.
/// (ffprobe itself, on real media and fake scripts, is tested in MediaIntegrationTests.)
final class ProberNormalizeTests: XCTestCase {
    // MARK: normalize

    let sample = """
        {
          "streams": [
            {"index": 0, "codec_name": "h264", "codec_type": "video", "width": 1920, "height": 1080,
             "avg_frame_rate": "30000/1001", "r_frame_rate": "30000/1001", "tags": {"language": "und"}},
            {"index": 1, "codec_name": "aac", "codec_type": "audio", "sample_rate": "48000", "channels": 2,
             "avg_frame_rate": "0/0", "r_frame_rate": "0/0"},
            {"index": 2, "codec_name": "bin_data", "codec_type": "data"},
            {"index": 3, "codec_name": "mov_text", "codec_type": "subtitle"},
            {"index": 4, "codec_name": "mjpeg", "codec_type": "video", "width": "300", "height": "200",
             "avg_frame_rate": "0/0", "r_frame_rate": "90000/1"},
            {"index": 5, "codec_type": "video", "avg_frame_rate": "0/0", "r_frame_rate": "0/0", "width": "N/A"}
          ],
          "format": {"filename": "/secret/path.mp4", "nb_streams": 6, "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
                     "duration": "12.345000", "size": "1234567", "bit_rate": "800000", "tags": {"title": "t"}}
        }
        """

    func testNormalizeHandWrittenSample() throws {
        let json = try XCTUnwrap(Prober.normalize(ffprobeJSON: Data(sample.utf8)))
        let root = try JSONHelpers.object(json)
        XCTAssertEqual(Set(root.keys), ["duration", "format_name", "bit_rate", "size", "streams"])
        XCTAssertEqual(try XCTUnwrap(JSONHelpers.double(root["duration"])), 12.345, accuracy: 1e-9)
        XCTAssertEqual(root["format_name"] as? String, "mov,mp4,m4a,3gp,3g2,mj2")
        JSONHelpers.assertNumber(json, "size", "1234567")
        JSONHelpers.assertNumber(json, "bit_rate", "800000")
        XCTAssertFalse(json.contains("/secret/path.mp4"), "the file name is not echoed")
        XCTAssertFalse(json.contains("tags") || json.contains("index") || json.contains("nb_streams"))

        let all = try XCTUnwrap(root["streams"] as? [[String: Any]])
        XCTAssertEqual(all.map { $0["type"] as? String }, ["video", "audio", "subtitle", "video", "video"], "data streams dropped, order kept")
        let h264 = all[0]
        XCTAssertEqual(h264["codec"] as? String, "h264")
        XCTAssertEqual((h264["width"] as? NSNumber)?.intValue, 1920)
        XCTAssertEqual(try XCTUnwrap(JSONHelpers.double(h264["fps"])), 29.97, accuracy: 0.0005)
        let aac = all[1]
        XCTAssertEqual((aac["sample_rate"] as? NSNumber)?.intValue, 48000)
        XCTAssertEqual((aac["channels"] as? NSNumber)?.intValue, 2)
        XCTAssertTrue(aac["fps"] is NSNull, "audio has no fps")
        JSONHelpers.assertNumber(json, "sample_rate", "48000")
        let subtitle = all[2]
        XCTAssertEqual(subtitle["codec"] as? String, "mov_text")
        for key in ["width", "height", "fps", "sample_rate", "channels"] { XCTAssertTrue(subtitle[key] is NSNull, key) }
        let mjpeg = all[3]
        XCTAssertEqual((mjpeg["width"] as? NSNumber)?.intValue, 300)
        XCTAssertEqual((mjpeg["height"] as? NSNumber)?.intValue, 200)
        let unnamed = all[4]
        XCTAssertTrue(unnamed["codec"] is NSNull && unnamed["fps"] is NSNull && unnamed["width"] is NSNull)
        XCTAssertFalse(json.contains("\"48000\"") || json.contains("\"1920\"") || json.contains("\"300\""),
                       "numeric strings become numbers: \(json)")
    }

    /// A video stream whose avg_frame_rate is unknown ("0/0", or absent as for still images) takes
    /// its fps from r_frame_rate: the fallback `normalize` spells out.
    func testNormalizeFallsBackToRFrameRate() throws {
        for avg in [#""avg_frame_rate": "0/0","#, ""] {
            let text = #"{"streams":[{"codec_type":"video","codec_name":"png",\#(avg) "r_frame_rate":"25/1"}],"format":{}}"#
            let root = try JSONHelpers.object(Prober.normalize(ffprobeJSON: Data(text.utf8)))
            let video = try XCTUnwrap(JSONHelpers.streams(root, "video").first)
            XCTAssertEqual(JSONHelpers.double(video["fps"]), 25, "fps from r_frame_rate when avg_frame_rate is \(avg.isEmpty ? "absent" : "0/0"): \(root)")
        }
        // Both unknown: null.
        let none = #"{"streams":[{"codec_type":"video","avg_frame_rate":"0/0","r_frame_rate":"0/0"}]}"#
        XCTAssertTrue(try XCTUnwrap(JSONHelpers.streams(JSONHelpers.object(Prober.normalize(ffprobeJSON: Data(none.utf8))), "video").first)["fps"] is NSNull)
    }

    func testNormalizeOddValues() throws {
        let text = """
            {"streams":[{"codec_type":"audio","codec_name":"opus","sample_rate":"inf","channels":"two"}],
             "format":{"duration":"N/A","bit_rate":"1e999","size":"-5"}}
            """
        let root = try JSONHelpers.object(Prober.normalize(ffprobeJSON: Data(text.utf8)))
        XCTAssertTrue(root["duration"] is NSNull)
        XCTAssertTrue(root["bit_rate"] is NSNull, "non-finite numbers become null")
        XCTAssertEqual((root["size"] as? NSNumber)?.intValue, -5)
        let audio = try XCTUnwrap(JSONHelpers.streams(root, "audio").first)
        XCTAssertTrue(audio["sample_rate"] is NSNull && audio["channels"] is NSNull)
    }

    func testNormalizeRejectsNonMediaReplies() {
        for text in ["", "not json", "[]", "{}", #"{"streams":[]}"#, #"{"streams":[{"codec_type":"data"}]}"#,
                     #"{"streams":[{"codec_name":"h264"}]}"#, #"{"format":{"duration":"1"}}"#] {
            XCTAssertNil(Prober.normalize(ffprobeJSON: Data(text.utf8)), text)
        }
    }

    func testRateParsing() {
        XCTAssertEqual(Prober.rate("30000/1001")?.doubleValue ?? 0, 29.97, accuracy: 0.0005)
        XCTAssertEqual(Prober.rate("24000/1001")?.doubleValue ?? 0, 23.976, accuracy: 0.0005)
        XCTAssertEqual(Prober.rate("25/1")?.doubleValue, 25)
        let bad: [Any?] = ["0/0", "25/0", "0/1", "abc", "25", "1/2/3", "-25/1", nil, 25]
        for bad in bad {
            XCTAssertNil(Prober.rate(bad), "\(String(describing: bad))")
        }
    }
}
