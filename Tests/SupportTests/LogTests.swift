import XCTest
import Support

final class LogTests: XCTestCase {
    func testNodeNamesAreShortAndPlain() {
        for good in ["a", "node-1", "eu_west.2", String(repeating: "n", count: 64)] {
            XCTAssertTrue(Log.isValidNodeName(good), good)
        }
        for bad in ["", String(repeating: "n", count: 65), "a b", "a'", "a\"", "a;", "$host", "nöde", "a\n"] {
            XCTAssertFalse(Log.isValidNodeName(bad), bad)
        }
    }

    func testTheTagStartsEveryLineOnceSet() {
        XCTAssertEqual(Log.prefix, "")
        Log.setNode("a")
        XCTAssertEqual(Log.prefix, "node=a ")
        Log.setNode(nil)
        XCTAssertEqual(Log.prefix, "")
    }
}
