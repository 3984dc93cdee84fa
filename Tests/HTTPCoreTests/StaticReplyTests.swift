import XCTest
@testable import HTTPCore

final class StaticReplyTests: XCTestCase {
    func v(_ range: String?, size: Int64 = 34) -> ByteRanges.Verdict { ByteRanges.verdict(range: range, size: size) }

    func testAbsentOrNotBytesIsWhole() {
        XCTAssertEqual(v(nil), .whole)
        XCTAssertEqual(v("items=0-1"), .whole)
        XCTAssertEqual(v("bytes="), .whole, "shorter than 7 bytes: ignored")
        XCTAssertEqual(v("bytes"), .whole)
    }

    func testSatisfiable() {
        for header in ["bytes=0-0", "bytes=33-", "bytes=-5", "bytes=-100", "bytes=40-,0-1", "bytes= 2 - 5 ", "BYTES=0-1",
                       "bytes=0-1,2-3", "bytes=0-99999999999"] {
            XCTAssertEqual(v(header), .partial, header)
        }
    }

    func testUnsatisfiable() {
        for header in ["bytes=34-", "bytes=100-200", "bytes=34-40,50-60", "bytes=-0", "bytes=abc", "bytes=1-2x",
                       "bytes=99999999999999999999-", "bytes=0-1,x", "bytes=5-3", "bytes=\t1-2", "bytes=-99999999999999999999"] {
            XCTAssertEqual(v(header), .unsatisfiable, header)
        }
    }

    func testEmptyFileStartingAtZeroIsWhole() {
        XCTAssertEqual(v("bytes=0-", size: 0), .whole)
        XCTAssertEqual(v("bytes=-5", size: 0), .whole)
        XCTAssertEqual(v("bytes=1-", size: 0), .unsatisfiable)
    }

    func testIfRange() {
        let etag = StaticReply.File(size: 34, modified: 0x5f00).etag
        XCTAssertEqual(etag, "\"5f00-22\"")
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: etag, size: 34, etag: etag, lastModified: 0x5f00), .unsatisfiable)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: "\"other\"", size: 34, etag: etag, lastModified: 0x5f00), .whole)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: "W/" + etag, size: 34, etag: etag, lastModified: 0x5f00), .whole)
        let date = DateTime.httpDate(1_700_000_000)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: date, size: 34, etag: etag, lastModified: 1_700_000_000), .unsatisfiable)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: date, size: 34, etag: etag, lastModified: 1_700_000_001), .whole)
    }

    func verdict(_ headers: [String: String], file: StaticReply.File = .init(size: 34, modified: 1_700_000_000)) -> StaticReply.Verdict {
        StaticReply.verdict(header: { headers[$0] }) { file }
    }

    func testPreconditions() {
        let file = StaticReply.File(size: 34, modified: 1_700_000_000)
        let date = file.lastModified
        XCTAssertEqual(date, "Tue, 14 Nov 2023 22:13:20 GMT")
        XCTAssertEqual(verdict([:]), .whole)
        XCTAssertEqual(verdict(["if-none-match": file.etag]), .notModified)
        XCTAssertEqual(verdict(["if-none-match": "\"x\", W/" + file.etag]), .notModified)
        XCTAssertEqual(verdict(["if-none-match": "*"]), .notModified)
        XCTAssertEqual(verdict(["if-none-match": "\"x\""]), .whole)
        XCTAssertEqual(verdict(["if-modified-since": date]), .notModified)
        XCTAssertEqual(verdict(["if-modified-since": "Tue, 14 Nov 2023 22:13:21 GMT"]), .whole, "exact, as nginx's default")
        XCTAssertEqual(verdict(["if-modified-since": date, "if-none-match": "\"x\""]), .whole, "both must agree")
        XCTAssertEqual(verdict(["if-match": "\"x\""]), .preconditionFailed)
        XCTAssertEqual(verdict(["if-match": "W/" + file.etag]), .preconditionFailed, "strong comparison")
        XCTAssertEqual(verdict(["if-match": "\"x\" , " + file.etag]), .whole)
        XCTAssertEqual(verdict(["if-match": "*", "range": "bytes=0-1"]), .partial)
        XCTAssertEqual(verdict(["if-unmodified-since": date]), .whole)
        XCTAssertEqual(verdict(["if-unmodified-since": "Tue, 14 Nov 2023 22:13:19 GMT"]), .preconditionFailed)
        XCTAssertEqual(verdict(["if-unmodified-since": "yesterday"]), .preconditionFailed, "unreadable: nginx refuses")
        XCTAssertEqual(verdict(["range": "bytes=100-"]), .unsatisfiable)
        XCTAssertEqual(verdict(["range": "bytes=100-", "if-none-match": file.etag]), .notModified, "preconditions first")
    }

    func testTheFileIsLookedAtOnlyWhenAFilterHeaderIsSent() {
        var looked = 0
        let file = { () -> StaticReply.File in looked += 1; return .init(size: 34, modified: 1) }
        XCTAssertEqual(StaticReply.verdict(header: { ["if-range": "\"x\"", "accept": "*/*"][$0] }, file: file), .whole)
        XCTAssertEqual(looked, 0)
        XCTAssertEqual(StaticReply.verdict(header: { ["range": "bytes=99-"][$0] }, file: file), .unsatisfiable)
        XCTAssertEqual(looked, 1)
    }

    func testHTTPDateForms() {
        XCTAssertEqual(DateTime.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784_111_777)
        XCTAssertEqual(DateTime.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT"), 784_111_777)
        XCTAssertEqual(DateTime.parseHTTPDate("Sun Nov  6 08:49:37 1994"), 784_111_777)
        for bad in ["", "yesterday", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT"] {
            XCTAssertNil(DateTime.parseHTTPDate(bad), bad)
        }
    }
}
