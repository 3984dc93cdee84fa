import XCTest
import HTTPCore

final class ByteRangesTests: XCTestCase {
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
        let etag = ByteRanges.etag(size: 34, modified: 0x5f00)
        XCTAssertEqual(etag, "\"5f00-22\"")
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: etag, size: 34, etag: etag, lastModified: 0x5f00), .unsatisfiable)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: "\"other\"", size: 34, etag: etag, lastModified: 0x5f00), .whole)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: "W/" + etag, size: 34, etag: etag, lastModified: 0x5f00), .whole)
        let date = DateTime.httpDate(1_700_000_000)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: date, size: 34, etag: etag, lastModified: 1_700_000_000), .unsatisfiable)
        XCTAssertEqual(ByteRanges.verdict(range: "bytes=100-", ifRange: date, size: 34, etag: etag, lastModified: 1_700_000_001), .whole)
    }
}
