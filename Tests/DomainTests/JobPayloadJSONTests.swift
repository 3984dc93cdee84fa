import XCTest
import Foundation
@testable import Domain

/// `JobPayload.isJSON` (JSONDecoder, no Foundation) says what JSONSerialization with fragments said.
final class JobPayloadJSONTests: XCTestCase {
    func testIsJSONMatchesJSONSerialization() {
        let samples = ["file_x", "", " ", "123", "-1", "1.5e3", "1e400", "-0", "01", "true", "false", "null", "nul", "\"quoted\"",
                       "\"unterminated", "[1]", "[1,]", "{}", "{\"a\":[1,{\"b\":null}]}", "{\"a\":}", " [ ] ", "a\"b", "ünï",
                       "line\nbreak", "[\"\\u00e9\"]", "{\"a\":1}x", "[[[[[]]]]]", "\"\\ud800\""]
        for text in samples {
            let foundation = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil
            XCTAssertEqual(JobPayload.isJSON(text), foundation, text.debugDescription)
        }
    }
}
