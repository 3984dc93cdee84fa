import XCTest
import Domain

final class MediaFileErrorTests: DomainTestCase {
    func testEveryCodeRoundTripsThroughTheStore() {
        for code in MediaFileError.Code.allCases {
            let error = code == .httpStatus ? MediaFileError.httpStatus(502) : MediaFileError(code)
            XCTAssertEqual(MediaFileError(stored: error.stored, fallback: .processingFailed), error, code.rawValue)
            XCTAssertFalse(error.message.isEmpty)
            XCTAssertFalse(error.message.contains("/"), "\(code.rawValue): \(error.message)")
        }
        XCTAssertEqual(MediaFileError.httpStatus(404).stored, "http_status 404")
        XCTAssertEqual(MediaFileError.httpStatus(404).message, "The origin answered HTTP 404")
        XCTAssertEqual(MediaFileError(.notMedia).stored, "not_media")
        XCTAssertEqual(MediaFileError(.notMedia).message, "The file is not a recognised audio or video format")
    }

    func testStatusOutsideHTTPIsDropped() {
        for status in [0, 99, 600, -1, Int.max] {
            XCTAssertNil(MediaFileError.httpStatus(status).httpStatus, "\(status)")
            XCTAssertEqual(MediaFileError.httpStatus(status).stored, "http_status")
        }
        XCTAssertNil(MediaFileError(.network, httpStatus: 500).httpStatus, "only http_status carries a status")
    }

    /// Rows written before codes hold raw tool text with server paths: none of it comes back.
    func testRawTextNeverComesBack() {
        let legacy = [
            ("not a recognised media file: /srv/run/data/files/m/file_abc.bin: Invalid data found when processing input",
             MediaFileError.Code.notMedia),
            ("ffprobe timed out after 60 s", .probeTimeout),
            ("ffprobe could not run: cannot start ffprobe: No such file or directory", .probeFailed),
            ("http_status 404 /srv/run", .probeFailed),
            ("http_status abc", .probeFailed),
            ("not_media extra", .probeFailed),
            ("", .probeFailed),
        ]
        for (text, code) in legacy {
            let read = MediaFileError(stored: text, fallback: .probeFailed)
            XCTAssertEqual(read.code, code, text)
            XCTAssertFalse(read.message.contains("/srv"), text)
        }
        XCTAssertEqual(MediaFileError(stored: "will retry: download failed: Failed to connect to localhost port 9",
                                      fallback: .processingFailed).code, .processingFailed)
    }

    func testFileRowsRenderCodesOnly() throws {
        let (account, _, _) = try makeAccount()
        let files = MediaFileService(db: db, storage: storage)
        let file = try files.createFromURL(accountID: account.id, url: "https://example.com/a.mp4", name: nil)
        XCTAssertNil(file.failure)
        XCTAssertNil(file.probeFailure)
        try db.write { try files.fail(publicID: file.id, error: MediaFileError(.blockedAddress)) }
        let failed = try XCTUnwrap(files.get(publicID: file.id))
        XCTAssertEqual(failed.status, .failed)
        XCTAssertEqual(failed.error, "blocked_address")
        XCTAssertEqual(failed.failure, MediaFileError(.blockedAddress))

        XCTAssertTrue(try files.markProcessing(publicID: file.id))
        try db.write {
            _ = try files.finish(publicID: file.id, storageKey: "m/\(file.id).mp4", sizeBytes: 3, contentType: nil,
                                 probe: .init(json: nil, error: MediaFileError(.notMedia)))
        }
        let ready = try XCTUnwrap(files.get(publicID: file.id))
        XCTAssertEqual(ready.ffprobeError, "not_media")
        XCTAssertEqual(ready.probeFailure, MediaFileError(.notMedia))
        XCTAssertNil(ready.failure)
    }
}
