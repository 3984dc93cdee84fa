import XCTest
import Foundation

/// Reading JSON replies in tests (ffprobe's normalised output, for one).
public enum JSONHelpers {
    /// The top-level object of `json`; fails the test when there is none.
    public static func object(_ json: String?, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let text = try XCTUnwrap(json, "no JSON", file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], file: file, line: line)
    }

    /// The entries of `root["streams"]` whose "type" is `type`.
    public static func streams(_ root: [String: Any], _ type: String) -> [[String: Any]] {
        (root["streams"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == type }
    }

    public static func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    /// `key` holds `value` as a JSON number in the text (not a string).
    public static func assertNumber(_ json: String, _ key: String, _ value: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotNil(json.range(of: "\"\(key)\"\\s*:\\s*\(NSRegularExpression.escapedPattern(for: value))\\s*[,}]",
                                   options: .regularExpression), "\(key): \(value) as a number in \(json)", file: file, line: line)
    }
}
