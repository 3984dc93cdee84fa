import XCTest
import Formats

/// One test per shared helper (the date parser and ISO/HTTP formats are in DateTimeTests).
final class FormatsTests: XCTestCase {
    func testMailAndHumanDates() {
        XCTAssertEqual(DateTime.mailDate(784_111_777), "Sun, 06 Nov 1994 08:49:37 +0000")
        XCTAssertEqual(DateTime.mailDate(-86_400), "Wed, 31 Dec 1969 00:00:00 +0000")
        XCTAssertEqual(DateTime.humanDate(784_111_777), "1994-11-06 08:49 UTC")
        XCTAssertEqual(DateTime.humanDate(951_782_459), "2000-02-29 00:00 UTC")
        XCTAssertEqual(DateTime.humanDate(253_402_300_799), "9999-12-31 23:59 UTC")
    }

    func testBase64IsStrict() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let bytes = Array(s.utf8)
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes, s)
            XCTAssertEqual(Base64.decode(Base64.encode(bytes, padding: false)), bytes, s)
            XCTAssertEqual(Base64.decode(Base64.encode(bytes, urlSafe: true), urlSafe: true), bytes, s)
        }
        XCTAssertEqual(Base64.encode(Array("foob".utf8)), "Zm9vYg==")
        XCTAssertEqual(Base64.encode([0xfb, 0xff], urlSafe: true, padding: false), "-_8")
        XCTAssertEqual(Base64.decode("+/8="), [0xfb, 0xff])
        XCTAssertEqual(Base64.decode("-_8", urlSafe: true), [0xfb, 0xff])
        // One alphabet at a time.
        XCTAssertNil(Base64.decode("-_8="))
        XCTAssertNil(Base64.decode("+/8=", urlSafe: true))
        XCTAssertNil(Base64.decode("+_8="))
        // `=` only at the end, and only to a multiple of four.
        XCTAssertNil(Base64.decode("Zm=9vYg=="))
        XCTAssertNil(Base64.decode("=Zm9vYg="))
        XCTAssertNil(Base64.decode("Zm9vYg="))
        XCTAssertNil(Base64.decode("Zm9vYg==="))
        XCTAssertNil(Base64.decode("Zm9v===="))
        XCTAssertNil(Base64.decode("Zm9v="))
        // Leftover bits must be zero; one character short of a byte is not base64.
        XCTAssertNil(Base64.decode("Zm9vYh=="))
        XCTAssertNil(Base64.decode("a"))
        XCTAssertNil(Base64.decode("a*b="))
        XCTAssertNil(Base64.decode("Zm9v Yg=="))
    }

    func testHexDigits() {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xa5, 0xff]), "000fa5ff")
        XCTAssertEqual(Hex.encode([0xab], uppercase: true), "AB")
        for (c, v) in zip("0123456789abcdefABCDEF".utf8, Array(0...15) + Array(10...15)) {
            XCTAssertEqual(Hex.value(c), UInt8(v))
        }
        for c in "gG/:@`xX %".utf8 { XCTAssertNil(Hex.value(c)) }
    }

    func testPercentEncoding() {
        XCTAssertEqual(PercentEncoding.decode("a+b%41"), "a+bA")
        XCTAssertEqual(PercentEncoding.decode("a+b%41", plusAsSpace: true), "a bA")
        XCTAssertEqual(PercentEncoding.decode(bytes: Array("%7e%7E".utf8)), "~~")
        XCTAssertEqual(PercentEncoding.decode("100%"), "100%")        // invalid escapes stay
        XCTAssertEqual(PercentEncoding.decode("%zz%4"), "%zz%4")
        XCTAssertEqual(PercentEncoding.decode("%FF"), "\u{FFFD}")     // invalid UTF-8
        XCTAssertEqual(PercentEncoding.decodedBytes(Array("%e9t%C3%A9".utf8)), [0xe9, 0x74, 0xc3, 0xa9])
        XCTAssertEqual(PercentEncoding.component("a b/é~"), "a%20b%2F%C3%A9~")
        XCTAssertEqual(PercentEncoding.decode(PercentEncoding.component("a b/é~+%")), "a b/é~+%")
    }

    func testEmailAddressRule() {
        for good in ["bugs@bunny.com", "a.b+tag@mail.example.org", "x@d.co", "o'neil@example.ie"] {
            XCTAssertNil(EmailAddress.problem(good), good)
        }
        let longest = String(repeating: "x", count: 67) + "@" + [String](repeating: String(repeating: "d", count: 60), count: 3).joined(separator: ".") + ".com"
        XCTAssertEqual(longest.utf8.count, 254)
        XCTAssertNil(EmailAddress.problem(longest))
        XCTAssertNotNil(EmailAddress.problem("x" + longest))
        for bad in ["a@b", "a(b)@c.d", "", "@example.com", "a@", "a@@b.c", "a@b@c.d", "a b@c.d", "a@b..c", "a@.b.c", "a@b.c.",
                    "<a@b.c>", "a@b.c,d@e.f", "a;b@c.d", "a:b@c.d", "\"a\"@b.c", "a\\b@c.d", "a[1]@b.c", "a@b.c\r\nBcc: x@y.z",
                    "a\u{0}@b.c", "a\u{00A0}b@c.d", "a\u{2028}@b.c", "a\u{85}@b.c"] {
            XCTAssertNotNil(EmailAddress.problem(bad), bad.debugDescription)
        }
    }
}
