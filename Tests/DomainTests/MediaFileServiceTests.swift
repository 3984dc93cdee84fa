import XCTest
import Domain
import Store
import Foundation

final class MediaFileServiceTests: DomainTestCase {
    func makeTemp(_ bytes: [UInt8]) -> String {
        let path = scratch.temporaryPath()
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func jobs(_ kind: String) throws -> [Row] {
        try db.query("SELECT * FROM jobs WHERE kind = ? ORDER BY id", [kind])
    }

    func testUploadIsPublishedPendingAndQueuedForProbe() throws {
        let (account, _, _) = try makeAccount()
        let files = MediaFileService(db: db, storage: storage)
        let file = try files.createFromUpload(accountID: account.id, name: "../clip.MP4", temporaryPath: makeTemp([1, 2, 3]), contentType: nil)
        XCTAssertEqual(file.name, "clip.MP4")
        XCTAssertEqual(file.status, .pending)
        XCTAssertEqual(file.sizeBytes, 3)
        XCTAssertEqual(file.contentType, "video/mp4")
        XCTAssertEqual(file.storageKey, "m/\(file.id).mp4")
        XCTAssertEqual(FileManager.default.contents(atPath: storage.path(forKey: file.storageKey!)), Data([1, 2, 3]))
        XCTAssertEqual(try jobs(FileProbeJob.name).map { $0.string("payload") }, [file.id])
    }

    func testStatusTransitions() throws {
        let (account, _, _) = try makeAccount()
        let files = MediaFileService(db: db, storage: storage)
        let file = try files.createFromURL(accountID: account.id, url: "https://example.com/a%20b.mp3?x=1", name: nil)
        XCTAssertEqual(file.name, "a b.mp3")
        XCTAssertEqual(file.source, .url)
        XCTAssertEqual(try jobs(FileImportJob.name).count, 1)
        XCTAssertTrue(try files.markProcessing(publicID: file.id))
        try files.awaitRetry(publicID: file.id, error: .httpStatus(503))
        var now = try XCTUnwrap(files.get(publicID: file.id))
        XCTAssertEqual(now.status, .pending)
        XCTAssertEqual(now.error, "http_status 503")
        XCTAssertEqual(now.failure, .httpStatus(503))
        XCTAssertTrue(try files.markProcessing(publicID: file.id))
        XCTAssertTrue(try files.finish(publicID: file.id, storageKey: "m/x.mp3", sizeBytes: 9, contentType: "audio/mpeg",
                                       probe: .init(json: "{\"streams\":[]}", error: nil)))
        now = try XCTUnwrap(files.get(publicID: file.id))
        XCTAssertEqual(now.status, .ready)
        XCTAssertNil(now.error)
        XCTAssertEqual(now.ffprobe, "{\"streams\":[]}")
        XCTAssertFalse(try files.markProcessing(publicID: file.id)) // ready stays ready
    }

    func testUnknownIDsChangeNothing() throws {
        let (account, _, _) = try makeAccount()
        let files = MediaFileService(db: db, storage: storage)
        let file = try files.createFromURL(accountID: account.id, url: "https://example.com/a.mp3", name: nil)
        XCTAssertTrue(try files.markProcessing(publicID: file.id))
        func everything() throws -> [[SQLValue]] {
            try (db.query("SELECT * FROM media_files ORDER BY id") + db.query("SELECT * FROM jobs ORDER BY id")).map(\.values)
        }
        let before = try everything()
        XCTAssertFalse(try files.markProcessing(publicID: "file_missing"))
        XCTAssertFalse(try files.finish(publicID: "file_missing", storageKey: "m/x.mp3", sizeBytes: 9, contentType: "audio/mpeg",
                                        probe: .init(json: "{\"streams\":[]}", error: nil)))
        try files.awaitRetry(publicID: "file_missing", error: MediaFileError(.network))
        try files.fail(publicID: "file_missing", error: MediaFileError(.network))
        XCTAssertEqual(try everything(), before)
        XCTAssertEqual(try XCTUnwrap(files.get(publicID: file.id)).status, .processing)
    }

    func testDeleteRemovesBytesAndCancelsWork() throws {
        let (account, _, _) = try makeAccount()
        let (other, _, _) = try makeAccount("Other")
        let files = MediaFileService(db: db, storage: storage)
        let file = try files.createFromUpload(accountID: account.id, name: "a.bin", temporaryPath: makeTemp([9]), contentType: nil)
        XCTAssertThrowsError(try files.delete(accountID: other.id, id: file.id)) {
            XCTAssertEqual($0 as? DomainError, .notFound("File \(file.id) not found"))
        }
        try files.delete(accountID: account.id, id: file.id)
        XCTAssertFalse(FileManager.default.fileExists(atPath: storage.path(forKey: file.storageKey!)))
        XCTAssertEqual(try jobs(FileProbeJob.name).map { $0.string("state") }, ["cancelled"])
        XCTAssertThrowsError(try files.get(accountID: account.id, id: file.id))
    }

    func testListNewestFirstWithTotal() throws {
        let (account, _, _) = try makeAccount()
        let files = MediaFileService(db: db, storage: storage)
        let ids = try (0..<3).map { try files.createFromURL(accountID: account.id, url: "https://example.com/\($0)", name: "f\($0)").id }
        let (page, total) = try files.list(accountID: account.id, page: Page(limit: 2, offset: 0))
        XCTAssertEqual(page.map(\.id), [ids[2], ids[1]])
        XCTAssertEqual(total, 3)
        XCTAssertEqual(try files.list(accountID: account.id, page: Page(limit: 2, offset: 2)).files.map(\.id), [ids[0]])
    }
}
