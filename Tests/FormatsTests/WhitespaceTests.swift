import XCTest
import Foundation
@testable import Formats

/// `Whitespace.trim` against Foundation's `trimmingCharacters(in:)`, which it replaces where
/// Foundation is not loaded.
final class WhitespaceTests: XCTestCase {
    let samples = ["", " ", "\t\n\r ", "a", "  a b  ", "\n\tname\r\n", "\u{00A0}x\u{2003}", "x\u{2028}", " \u{3000}日本 ",
                   "\r\n", "a\r\n", "é\u{0301} ", "\u{FEFF}a"]

    func testTrimMatchesFoundation() {
        for text in samples {
            XCTAssertEqual(Whitespace.trim(text), text.trimmingCharacters(in: .whitespacesAndNewlines), text.debugDescription)
            XCTAssertEqual(Whitespace.trim(text, newlines: false), text.trimmingCharacters(in: .whitespaces), text.debugDescription)
        }
    }

    func testTrimOfASubstring() {
        let line = "key:  value \t"
        XCTAssertEqual(Whitespace.trim(line[line.index(after: line.firstIndex(of: ":")!)...]), "value")
    }
}
