import XCTest
import Foundation
@testable import Formats
import TestSupport

final class DateTimeTests: XCTestCase {
    private let sample: Int64 = 1_230_490_076  // 2008-12-28T18:47:56Z

    func testFormat() {
        XCTAssertEqual(DateTime.format(0), "1970-01-01T00:00:00+00:00")
        XCTAssertEqual(DateTime.format(sample), "2008-12-28T18:47:56+00:00")
        XCTAssertEqual(DateTime.format(951_782_400), "2000-02-29T00:00:00+00:00")
        XCTAssertEqual(DateTime.format(253_402_300_799), "9999-12-31T23:59:59+00:00")
        XCTAssertEqual(DateTime.format(-1), "1969-12-31T23:59:59+00:00")
        XCTAssertEqual(DateTime.format(-2_208_988_800), "1900-01-01T00:00:00+00:00")
        XCTAssertEqual(DateTime.format(-62_135_596_800), "0001-01-01T00:00:00+00:00")
    }

    func testFormatExtremesDoNotCrash() {
        XCTAssertFalse(DateTime.format(.max).isEmpty)
        XCTAssertFalse(DateTime.format(.min).isEmpty)
        XCTAssertFalse(DateTime.httpDate(.max).isEmpty)
        XCTAssertFalse(DateTime.httpDate(.min).isEmpty)
        XCTAssertEqual(DateTime.format(253_402_300_800), "+10000-01-01T00:00:00+00:00")
    }

    func testHTTPDate() {
        XCTAssertEqual(DateTime.httpDate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(DateTime.httpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(DateTime.httpDate(sample), "Sun, 28 Dec 2008 18:47:56 GMT")
        XCTAssertEqual(DateTime.httpDate(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(DateTime.httpDate(-86_400), "Wed, 31 Dec 1969 00:00:00 GMT")
        XCTAssertEqual(DateTime.httpDate(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT")
    }

    func testParseForms() {
        XCTAssertEqual(DateTime.parse("2008-12-28T18:47:56+00:00"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28T18:47:56Z"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28T18:47:56z"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28T18:47:56"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28 18:47:56"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28t18:47:56"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28 18:47:56 UTC"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28 18:47:56 +0000"), .value(sample))
        XCTAssertEqual(DateTime.parse("  2008-12-28T18:47:56Z\n"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28T18:47"), .value(sample - 56))
        XCTAssertEqual(DateTime.parse("2010-07-24"), .value(1_279_929_600))
        XCTAssertEqual(DateTime.parse("1970-01-01"), .value(0))
        XCTAssertEqual(DateTime.parse(Substring("x2008-12-28T18:47:56Zx").dropFirst().dropLast()), .value(sample))
    }

    func testParseOffsets() {
        XCTAssertEqual(DateTime.parse("2008-12-28T14:47:56-04:00"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-29T00:17:56+0530"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-29T00:17:56+05:30"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28T20:47:56+02"), .value(sample))
        XCTAssertEqual(DateTime.parse("2008-12-28T18:47:56-00:00"), .value(sample))
        XCTAssertEqual(DateTime.parse("1970-01-01T00:00:00+01:00"), .value(-3600))
        XCTAssertEqual(DateTime.parse("2008-12-28T09:47:56.123-09:00"), .value(sample))
    }

    func testFractionalSecondsTruncated() {
        XCTAssertEqual(DateTime.parse("2026-11-24T17:30:13.797985"), .value(1_795_541_413))
        XCTAssertEqual(DateTime.parse("2026-11-24T17:30:13.7979851"), .value(1_795_541_413))
        XCTAssertEqual(DateTime.parse("2026-11-24T17:30:13.9"), .value(1_795_541_413))
        XCTAssertEqual(DateTime.parse("2026-11-24T17:30:13.999999999999999999999Z"), .value(1_795_541_413))
        XCTAssertEqual(DateTime.parse("2026-11-24T17:30:13,5+00:00"), .value(1_795_541_413))
        XCTAssertEqual(DateTime.parse("2026-11-24T17:30:13."), .invalid)
    }

    func testUnset() {
        XCTAssertEqual(DateTime.parse(""), .unset)
        XCTAssertEqual(DateTime.parse("   "), .unset)
        XCTAssertEqual(DateTime.parse("\t\r\n"), .unset)
        XCTAssertEqual(DateTime.parse("0001-01-01T00:00:00"), .unset)
        XCTAssertEqual(DateTime.parse("0001-01-01T00:00:00+00:00"), .unset)
        XCTAssertEqual(DateTime.parse("0001-01-01T00:00:00Z"), .unset)
        XCTAssertEqual(DateTime.parse("0001-01-01T00:00:00.0000000"), .unset)
        XCTAssertEqual(DateTime.parse("0001-01-01T00:00:00.000-05:00"), .unset)
        XCTAssertEqual(DateTime.parse("0001-01-01 00:00:00"), .unset)
        XCTAssertEqual(DateTime.parse("0001-01-01"), .unset)
        // Any other early date is a value.
        XCTAssertEqual(DateTime.parse("0001-01-01T00:00:01Z"), .value(-62_135_596_799))
    }

    func testLeapYears() {
        XCTAssertEqual(DateTime.parse("2000-02-29"), .value(951_782_400))
        XCTAssertEqual(DateTime.parse("2024-02-29T12:00:00Z"), .value(1_709_208_000))
        XCTAssertEqual(DateTime.parse("1900-02-29"), .invalid)
        XCTAssertEqual(DateTime.parse("2023-02-29"), .invalid)
        XCTAssertEqual(DateTime.parse("2100-02-29"), .invalid)
        XCTAssertEqual(DateTime.parse("1600-02-29"), .value(-11_670_998_400))
        XCTAssertEqual(DateTime.parse("1900-02-28"), .value(-2_203_977_600))
        XCTAssertEqual(DateTime.parse("2024-12-31T23:59:59Z"), .value(1_735_689_599))
    }

    func testInvalid() {
        let bad = [
            "garbage", "2008", "2008-12", "2008-13-01", "2008-00-10", "2008-12-00", "2008-12-32", "2008-02-30",
            "2008-04-31", "2008-12-28T24:00:00", "2008-12-28T23:60:00", "2008-12-28T23:59:60", "2008-12-28T",
            "2008-12-28T1:2:3", "2008-12-28T18:47:5", "2008-12-28X18:47:56", "2008-12-28T18:47:56+", "2008-12-28T18:47:56+5",
            "2008-12-28T18:47:56+05:3", "2008-12-28T18:47:56+24:00", "2008-12-28T18:47:56+05:60", "2008-12-28T18:47:56Zjunk",
            "2008-12-28T18:47:56 Z Z", "0000-01-01", "-001-01-01", "2008/12/28", "28-12-2008", "2008-1-28", "２００８-12-28",
            "2008-12-28T18:47:56.+00:00", "2008-12-28T18:47:56.12.3", "0001-01-01T00:00:00junk", "\u{0}", "🥕",
        ]
        for input in bad {
            XCTAssertEqual(DateTime.parse(input), .invalid, input)
        }
    }

    func testRoundTripRandomTimestamps() {
        var rng = TestRNG(self)
        let lower: Int64 = -62_135_596_800 + 1  // 0001-01-01T00:00:01
        let upper: Int64 = 253_402_300_799  // 9999-12-31T23:59:59
        for _ in 0..<20_000 {
            let t = lower + Int64(rng.next() % UInt64(upper - lower + 1))
            let text = DateTime.format(t)
            XCTAssertEqual(text.utf8.count, 25)
            XCTAssertEqual(DateTime.parse(text), .value(t), text)
        }
        for t: Int64 in [0, 1, -1, 86_399, 86_400, 951_782_399, 951_782_400, 4_102_444_800, upper] {
            XCTAssertEqual(DateTime.parse(DateTime.format(t)), .value(t))
        }
    }

    func testCivilConversionsAgreeDayByDay() {
        // Walk every day from 1600 to 2400 and compare with an independent count.
        var days = DateTime.days(year: 1600, month: 1, day: 1)
        for year: Int64 in 1600...2400 {
            for month: Int64 in 1...12 {
                for day in 1...DateTime.daysInMonth(year, month) {
                    XCTAssertEqual(DateTime.days(year: year, month: month, day: day), days)
                    let (y, m, d) = DateTime.civil(fromDays: days)
                    if (y, m, d) != (year, month, day) {
                        XCTFail("\(days) -> \(y)-\(m)-\(d), expected \(year)-\(month)-\(day)")
                        return
                    }
                    days += 1
                }
            }
        }
    }

    /// Random inputs, garbage and date-shaped (with out-of-range fields, odd separators and
    /// zones), parse exactly as an independent reading of the documented grammar says.
    func testRandomInputsParseAsTheGrammarSays() {
        var rng = TestRNG(self)
        let alphabet = Array("0123456789-:+TZ. ,tzUTCGMT".utf8) + [0xFF, 0x00]
        var outcomes: Set<String> = []
        for _ in 0..<20_000 {
            var bytes: [UInt8]
            if rng.below(4) == 0 {
                bytes = (0..<rng.below(32)).map { _ in alphabet[rng.below(alphabet.count)] }
            } else {
                bytes = Array(DateTimeTests.dateShaped(&rng).utf8)
                if rng.below(5) == 0, !bytes.isEmpty { bytes[rng.below(bytes.count)] = alphabet[rng.below(alphabet.count)] }
            }
            let input = String(decoding: bytes, as: UTF8.self)
            let expected = DateTimeTests.grammar(input)
            XCTAssertEqual(DateTime.parse(input), expected, "\(input.debugDescription)")
            outcomes.insert("\(expected)".prefix { $0 != "(" }.description)
        }
        XCTAssertEqual(outcomes, ["value", "unset", "invalid"], "the inputs reach every outcome")
    }

    /// `YYYY-MM-DD[(T|t| )hh:mm[:ss[(.|,)digits]][[ ]zone]]` with fields drawn a little beyond their ranges.
    static func dateShaped(_ rng: inout TestRNG) -> String {
        func two(_ upper: Int) -> String { String(format: "%02d", rng.below(upper + 1)) }
        var text = String(format: "%04d", rng.below(4) == 0 ? rng.below(3) : rng.below(10_000)) + "-" + two(13) + "-" + two(32)
        if rng.below(4) > 0 {
            text += ["T", "t", " ", "x"][rng.below(4)] + two(25) + ":" + two(61)
            if rng.below(3) > 0 {
                text += ":" + two(61)
                if rng.below(3) == 0 { text += [".", ","][rng.below(2)] + String(repeating: "7", count: rng.below(4)) }
            }
            if rng.below(3) > 0 {
                text += rng.below(2) == 0 ? "" : " "
                let sign = ["+", "-"][rng.below(2)]
                text += ["Z", "z", "UTC", "gmt", "Utc", sign + two(25), sign + two(25) + two(61), sign + two(25) + ":" + two(61),
                         sign + two(25) + ":"][rng.below(9)]
            }
        }
        if rng.below(8) == 0 { text = ["", " ", "\t", "\n", "\r\n"][rng.below(5)] + text + ["", " ", "\n"][rng.below(3)] }
        if rng.below(50) == 0 { text = ["", "  ", "0001-01-01", "0001-01-01T00:00:00", "0001-01-01 00:00:00+05"][rng.below(5)] }
        return text
    }

    /// The grammar `DateTime.parse` documents, read with a regular expression and a day count of
    /// its own (years before `year`, then months): nothing from `DateTime` but its result type.
    static func grammar(_ input: String) -> DateTime.ParseResult {
        let trimmed = input.trimmingCharacters(in: CharacterSet(charactersIn: " \t\n\r"))
        if trimmed.isEmpty { return .unset }
        let pattern = "^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]+)?)?"
            + "(?: ?(?:([Zz]|[Uu][Tt][Cc]|[Gg][Mm][Tt])|([+-])([0-9]{2})(?::?([0-9]{2}))?))?)?\\z"
        let regex = try! NSRegularExpression(pattern: pattern)
        let whole = NSRange(trimmed.startIndex..., in: trimmed)
        guard let match = regex.firstMatch(in: trimmed, range: whole) else { return .invalid }
        func field(_ k: Int) -> Int64? {
            Range(match.range(at: k), in: trimmed).map { Int64(trimmed[$0])! }
        }
        let (year, month, day) = (field(1)!, field(2)!, field(3)!)
        let (hour, minute, second) = (field(4) ?? 0, field(5) ?? 0, field(6) ?? 0)
        let offsetHours = field(9) ?? 0, offsetMinutes = field(10) ?? 0
        func leap(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }
        let monthDays: [Int64] = [31, leap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard year >= 1, (1...12).contains(month), day >= 1, day <= monthDays[Int(month) - 1],
              hour <= 23, minute <= 59, second <= 59, offsetHours <= 23, offsetMinutes <= 59 else { return .invalid }
        if year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 { return .unset }
        func leapsThrough(_ y: Int64) -> Int64 { y / 4 - y / 100 + y / 400 }  // leap years in 1...y
        let daysBeforeYear = 365 * (year - 1970) + leapsThrough(year - 1) - leapsThrough(1969)
        let days = daysBeforeYear + monthDays[0..<(Int(month) - 1)].reduce(0, +) + day - 1
        let sign: Int64 = Range(match.range(at: 8), in: trimmed).map { trimmed[$0] == "-" ? -1 : 1 } ?? 1
        return .value(days * 86_400 + hour * 3600 + minute * 60 + second - sign * (offsetHours * 3600 + offsetMinutes * 60))
    }
}
