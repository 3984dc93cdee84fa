import XCTest
import Domain
import Foundation

final class UploadServiceTests: DomainTestCase {
    func testRecordPublishesAtomically() throws {
        let (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id, name: "../../etc/passwd", bytes: [1, 2, 3])
        XCTAssertEqual(upload.filename, "passwd")
        XCTAssertEqual(upload.sizeBytes, 3)
        XCTAssertEqual(FileManager.default.contents(atPath: storage.path(forKey: upload.storageKey)), Data([1, 2, 3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.directory).filter { $0.hasPrefix("up-") }, [])
    }

    func testFailedInsertLeavesNoFile() throws {
        let temp = scratch.temporaryPath()
        FileManager.default.createFile(atPath: temp, contents: Data([1]))
        // Account 999 does not exist: the foreign key refuses the row.
        XCTAssertThrowsError(try UploadService(db: db, storage: storage).record(
            accountID: 999, filename: "x", contentType: nil, temporaryPath: temp, ipAddress: ""))
        let files = FileManager.default.enumerator(atPath: storage.directory)?.allObjects as? [String] ?? []
        XCTAssertTrue(files.allSatisfy { !$0.contains("/") }, "no stored file should remain: \(files)")
        XCTAssertEqual(try db.query("SELECT * FROM uploads").count, 0)
    }

    func testSanitize() {
        XCTAssertEqual(UploadService.sanitize(filename: "C:\\Users\\me\\song.mp3"), "song.mp3")
        XCTAssertEqual(UploadService.sanitize(filename: "a\u{0}b\nc"), "abc")
        XCTAssertEqual(UploadService.sanitize(filename: ".."), "")
        XCTAssertEqual(UploadService.sanitize(filename: String(repeating: "é", count: 200)).utf8.count, 254)
    }
}
