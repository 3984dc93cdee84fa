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
        let first = try files.list(accountID: account.id, page: Page(limit: 2, offset: 0))
        XCTAssertEqual(first.items.map(\.id), [ids[2], ids[1]])
        XCTAssertEqual(first.total, 3)
        XCTAssertTrue(first.hasMore)
        let last = try files.list(accountID: account.id, page: Page(limit: 2, offset: 2))
        XCTAssertEqual(last.items.map(\.id), [ids[0]])
        XCTAssertEqual(last.total, 3)
        XCTAssertFalse(last.hasMore)
        XCTAssertNil(last.nextCursor)
        // A page that ends exactly at the last row has no more and no cursor.
        let exact = try files.list(accountID: account.id, page: Page(limit: 3, offset: 0))
        XCTAssertEqual(exact.items.count, 3)
        XCTAssertFalse(exact.hasMore)
        XCTAssertNil(exact.nextCursor)
    }

    func testCursorPagesMatchOffsetPagesAndSurviveDeletes() throws {
        let (account, _, _) = try makeAccount()
        let (other, _, _) = try makeAccount("Other")
        let files = MediaFileService(db: db, storage: storage)
        var ids: [String] = []
        for n in 0..<7 {
            ids.append(try files.createFromURL(accountID: account.id, url: "https://example.com/\(n)", name: nil).id)
            _ = try files.createFromURL(accountID: other.id, url: "https://example.com/o\(n)", name: nil)
        }
        let newestFirst = Array(ids.reversed())
        var seen: [String] = []
        var after: String? = nil
        var pages = 0
        repeat {
            let page = try files.list(accountID: account.id, page: Page(limit: 3, offset: 0, after: after))
            let byOffset = try files.list(accountID: account.id, page: Page(limit: 3, offset: pages * 3))
            XCTAssertEqual(page.items.map(\.id), byOffset.items.map(\.id))
            XCTAssertEqual(page.hasMore, byOffset.hasMore)
            XCTAssertEqual(page.total, 7)
            seen += page.items.map(\.id)
            after = page.nextCursor
            pages += 1
        } while after != nil
        XCTAssertEqual(seen, newestFirst)
        XCTAssertEqual(pages, 3)

        // The row a cursor names may be deleted: the next page still starts below it.
        let first = try files.list(accountID: account.id, page: Page(limit: 2, offset: 0))
        try files.delete(accountID: account.id, id: first.items[1].id)
        let next = try files.list(accountID: account.id, page: Page(limit: 2, offset: 0, after: first.nextCursor))
        XCTAssertEqual(next.items.map(\.id), Array(newestFirst[2..<4]))
        XCTAssertEqual(next.total, 6)

        for bad in ["x", "-1", "0", "1.5", "99999999999999999999", " 3"] {
            XCTAssertThrowsError(try files.list(accountID: account.id, page: Page(limit: 2, offset: 0, after: bad))) {
                XCTAssertEqual($0 as? DomainError, .invalid("after must be a next_cursor value from an earlier page"))
            }
        }
    }

    func testTotalIsTheAccountsCounterKeptByCreatesAndDeletes() throws {
        let (account, _, _) = try makeAccount()
        let (other, _, _) = try makeAccount("Other")
        let files = MediaFileService(db: db, storage: storage)
        let upload = try files.createFromUpload(accountID: account.id, name: "a.bin", temporaryPath: makeTemp([1]), contentType: nil)
        let imported = try files.createFromURL(accountID: account.id, url: "https://example.com/b", name: nil)
        _ = try files.createFromURL(accountID: other.id, url: "https://example.com/c", name: nil)
        func counter(_ id: Int64) throws -> Int64? {
            try db.queryOne("SELECT media_files_count FROM accounts WHERE id = ?", [id])?.int("media_files_count")
        }
        XCTAssertEqual(try counter(account.id), 2)
        XCTAssertEqual(try counter(other.id), 1)
        try files.delete(accountID: account.id, id: upload.id)
        XCTAssertThrowsError(try files.delete(accountID: account.id, id: upload.id))
        XCTAssertThrowsError(try files.delete(accountID: other.id, id: imported.id))
        XCTAssertEqual(try counter(account.id), 1)
        XCTAssertEqual(try counter(other.id), 1)
        XCTAssertEqual(try files.list(accountID: account.id, page: .all).total, 1)
        // A refused create (no name) changes no count.
        XCTAssertThrowsError(try files.createFromUpload(accountID: account.id, name: "", temporaryPath: makeTemp([1]), contentType: nil))
        XCTAssertEqual(try counter(account.id), 1)
    }

    func testCounterMigrationCountsExistingFiles() throws {
        let old = try Databases.open(url: emptyDatabaseURL(name: "old"))
        let counter = Schema.migrations.first { $0.name.hasPrefix("per-account count of media files") }!.version
        try Migrator.migrate(old, Schema.migrations.filter { $0.version < counter }, now: 0)
        let account = try AccountService(db: old, clock: .fixed(1_000)).create(.init(name: "Old")).0
        let empty = try AccountService(db: old, clock: .fixed(1_000)).create(.init(name: "Empty")).0
        for n in 0..<4 {
            try old.execute("""
                INSERT INTO media_files (public_id, account_id, name, source, status, created_at, updated_at)
                VALUES (?, ?, 'f', 'url', 'pending', 0, 0)
                """, ["file_old\(n)", account.id])
        }
        XCTAssertEqual(try Migrator.migrate(old, Schema.migrations, now: 0), Schema.migrations.map(\.version).filter { $0 >= counter })
        let files = MediaFileService(db: old, storage: storage)
        XCTAssertEqual(try files.list(accountID: account.id, page: .all).total, 4)
        XCTAssertEqual(try files.list(accountID: empty.id, page: .all).total, 0)
    }
}
