import XCTest
import Domain
import Store
import Foundation

final class ItemServiceTests: DomainTestCase {
    func testCreateShowAndFileByName() throws {
        let (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id, name: "book.pdf", bytes: Array(repeating: 7, count: 1234))
        let items = ItemService(db: db, clock: .fixed(5_000))
        let item = try items.create(accountID: account.id, ItemInput(sku: "BOOK", name: "A Book", price: 9.5, filename: "book.pdf"))
        XCTAssertEqual(item.file?.id, upload.id)
        XCTAssertEqual(item.file?.sizeBytes, 1234)
        XCTAssertEqual(item.file?.contentType, "application/pdf")
        XCTAssertEqual(item.createdAt, 5_000)
        XCTAssertEqual(try items.get(guid: item.guid)?.sku, "BOOK")
    }

    func testDuplicateAndMissingSKU() throws {
        let (account, _, _) = try makeAccount()
        let items = ItemService(db: db)
        _ = try items.create(accountID: account.id, ItemInput(sku: "A"))
        XCTAssertThrowsError(try items.create(accountID: account.id, ItemInput(sku: "A"))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("SKU A is already taken"))
        }
        XCTAssertThrowsError(try items.create(accountID: account.id, ItemInput(name: "no sku"))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("SKU is required"))
        }
        XCTAssertThrowsError(try items.create(accountID: account.id, ItemInput(sku: "B", uploadID: 999)))
        XCTAssertEqual(try items.list(accountID: account.id, page: .all).map(\.sku), ["A"])
    }

    func testRenameAndConflict() throws {
        let (account, _, _) = try makeAccount()
        let items = ItemService(db: db)
        _ = try items.create(accountID: account.id, ItemInput(sku: "A", name: "first"))
        _ = try items.create(accountID: account.id, ItemInput(sku: "B"))
        let renamed = try items.update(accountID: account.id, sku: "A", ItemInput(sku: "C"))
        XCTAssertEqual(renamed.sku, "C")
        XCTAssertEqual(renamed.name, "first")
        XCTAssertThrowsError(try items.get(accountID: account.id, sku: "A"))
        XCTAssertThrowsError(try items.update(accountID: account.id, sku: "C", ItemInput(sku: "B", name: "changed"))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("SKU B is already taken"))
        }
        XCTAssertEqual(try items.get(accountID: account.id, sku: "C").name, "first") // nothing half-written
    }

    func testTenantsAreIsolated() throws {
        let (a, _, _) = try makeAccount("A")
        let (b, _, _) = try makeAccount("B")
        let items = ItemService(db: db)
        _ = try items.create(accountID: a.id, ItemInput(sku: "SAME"))
        _ = try items.create(accountID: b.id, ItemInput(sku: "SAME")) // SKUs are per account
        let onlyA = try items.create(accountID: a.id, ItemInput(sku: "ONLY-A"))
        XCTAssertThrowsError(try items.get(accountID: b.id, sku: "ONLY-A")) { XCTAssertEqual($0 as? DomainError, .notFound("Item ONLY-A not found")) }
        XCTAssertThrowsError(try items.delete(accountID: b.id, sku: "ONLY-A"))
        let uploadOfA = try makeUpload(account: a.id)
        XCTAssertThrowsError(try items.create(accountID: b.id, ItemInput(sku: "X", uploadID: uploadOfA.id)))
        XCTAssertEqual(try items.get(accountID: a.id, sku: "ONLY-A").id, onlyA.id)
    }

    func testDeleteKeepsDownloadLog() throws {
        let (account, _, _) = try makeAccount()
        let items = ItemService(db: db)
        let item = try items.create(accountID: account.id, ItemInput(sku: "GONE"))
        try db.execute("INSERT INTO downloads (account_id, item_id, item_sku, filename, downloaded_at) VALUES (?, ?, 'GONE', 'f', 1)",
                       [account.id, item.id])
        try items.delete(accountID: account.id, sku: "GONE")
        let log = try DownloadService(db: db).list(accountID: account.id, page: .all)
        XCTAssertEqual(log.map(\.itemSKU), ["GONE"])
    }

    func testValidation() throws {
        let (account, _, _) = try makeAccount()
        let items = ItemService(db: db)
        XCTAssertThrowsError(try items.create(accountID: account.id, ItemInput(sku: "a/b")))
        XCTAssertThrowsError(try items.create(accountID: account.id, ItemInput(sku: "ok", price: -1)))
        XCTAssertThrowsError(try items.create(accountID: account.id, ItemInput(sku: String(repeating: "x", count: 300))))
    }
}
