import Foundation
import XCTest
@testable import Media

/// Regressions of what FuzzProbe found in `FFprobeReply` (the inputs are also in Fuzz/Corpus/FuzzProbe).
final class FFprobeReplyFuzzTests: XCTestCase {
    /// An infinite frame rate (1e308/1e-308) or size ("1e999") made the reply unwritable as JSON, so a
    /// file with a video stream read as one with no stream at all.
    func testInfiniteNumbersAreNullNotTheEndOfTheReply() throws {
        let crash = #"{"streams": [{"codec_type": "video", "avg_frame_rate": "0/0", "r_frame_rate": "1e308/1e-308", "width": "1e999"}]}"#
        let text = try XCTUnwrap(FFprobeReply.normalize(Data(crash.utf8)))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let stream = try XCTUnwrap((root["streams"] as? [[String: Any]])?.first)
        XCTAssertEqual(stream["type"] as? String, "video")
        XCTAssertTrue(stream["fps"] is NSNull)
        XCTAssertTrue(stream["width"] is NSNull)
        XCTAssertNil(FFprobeReply.rate("1/100000000"), "a rate that rounds to 0 fps is no rate")
        XCTAssertEqual(FFprobeReply.rate("30000/1001")?.doubleValue ?? 0, 29.97, accuracy: 0.0005)
    }
}
