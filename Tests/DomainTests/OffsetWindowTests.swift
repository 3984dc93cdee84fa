import XCTest
@testable import Domain
import Store

/// Pages past the middle of a list are read from its other end (`OffsetWindow`): every page must be
/// the very rows the list's own order gives at that offset, on either engine, whatever the filter.
final class OffsetWindowTests: DomainTestCase {
    func testWindowReadsFromTheNearerEnd() {
        // 100 rows, pages of 10: the first half from the top, the second from the bottom.
        XCTAssertEqual(OffsetWindow(offset: 0, limit: 10, total: 100), OffsetWindow(limit: 10, offset: 0, fromOtherEnd: false))
        XCTAssertEqual(OffsetWindow(offset: 40, limit: 10, total: 100), OffsetWindow(limit: 10, offset: 40, fromOtherEnd: false))
        XCTAssertEqual(OffsetWindow(offset: 45, limit: 10, total: 100), OffsetWindow(limit: 10, offset: 45, fromOtherEnd: false))
        XCTAssertEqual(OffsetWindow(offset: 50, limit: 10, total: 100), OffsetWindow(limit: 10, offset: 40, fromOtherEnd: true))
        XCTAssertEqual(OffsetWindow(offset: 90, limit: 10, total: 100), OffsetWindow(limit: 10, offset: 0, fromOtherEnd: true))
        // The last partial page, one row more than the page (the "more follow?" probe), past the end.
        XCTAssertEqual(OffsetWindow(offset: 95, limit: 10, total: 100), OffsetWindow(limit: 5, offset: 0, fromOtherEnd: true))
        XCTAssertEqual(OffsetWindow(offset: 80, limit: 11, total: 100), OffsetWindow(limit: 11, offset: 9, fromOtherEnd: true))
        XCTAssertEqual(OffsetWindow(offset: 100, limit: 10, total: 100).limit, 0)
        XCTAssertEqual(OffsetWindow(offset: 500, limit: 10, total: 100).limit, 0)
        // Unknown length, or a huge limit (`Page.all`): from the top.
        XCTAssertEqual(OffsetWindow(offset: 90, limit: 10, total: nil), OffsetWindow(limit: 10, offset: 90, fromOtherEnd: false))
        XCTAssertEqual(OffsetWindow(offset: 60, limit: Int.max, total: 100), OffsetWindow(limit: 40, offset: 0, fromOtherEnd: true))
    }

    /// The fetch list (`Listing.newestFirst`, a total of its own): every offset of a small list with
    /// and without a status filter, two page sizes, against the whole list read from the top.
    func testFetchListPagesAgreeBothWays() throws {
        let account = try makeAccount().0.id
        let other = try makeAccount("Other").0.id
        try fill("""
            INSERT INTO fetches (public_id, account_id, url, quality, status, origin, created_at)
            SELECT 'f-' || i, CASE WHEN i % 4 = 0 THEN \(other) ELSE \(account) END, 'https://example.com/v', 'best',
                   CASE WHEN i % 3 = 0 THEN 'failed' ELSE 'success' END, 'fetch', i FROM n
            """, rows: 60)
        let fetches = FetchService(db: db, storage: storage)
        XCTAssertEqual(try fetches.newest(accountID: account, limit: 7).map(\.id),
                       try fetches.list(accountID: account, status: nil, page: Page(limit: 7, offset: 0)).items.map(\.id))
        XCTAssertEqual(try fetches.newest(accountID: account, limit: 1_000).count, 45)
        for status in [nil, Fetch.Status.failed] {
            let all = try fetches.list(accountID: account, status: status, page: .all)
            XCTAssertEqual(all.total, Int64(all.items.count))
            XCTAssertEqual(all.items.map(\.rowID), all.items.map(\.rowID).sorted(by: >))
            for limit in [1, 4, 7] {
                for offset in 0...(all.items.count + limit) {
                    let page = try fetches.list(accountID: account, status: status, page: Page(limit: limit, offset: offset))
                    let expected = Array(all.items[min(offset, all.items.count)..<min(offset + limit, all.items.count)])
                    XCTAssertEqual(page.items.map(\.id), expected.map(\.id), "status \(String(describing: status)) limit \(limit) offset \(offset)")
                    XCTAssertEqual(page.total, all.total)
                    XCTAssertEqual(page.hasMore, offset + limit < all.items.count, "limit \(limit) offset \(offset)")
                    XCTAssertEqual(page.nextCursor, page.hasMore ? page.items.last.map { String($0.rowID) } : nil)
                }
            }
        }
    }

    /// The store's lists count their rows only for pages from `OffsetWindow.countFrom` on: a list
    /// longer than twice that, pages before it, on both sides of the middle, the last full and
    /// partial pages and past the end, for each list and its filters, against the whole list.
    func testStoreListsPagesAgreeBothWays() throws {
        let account = try makeAccount().0.id
        let other = try makeAccount("Other").0.id
        let owner = "CASE WHEN i % 5 = 0 THEN \(other) ELSE \(account) END"
        let rows = 13_000 // the account holds 10,400 of each
        try fill("""
            INSERT INTO uploads (account_id, filename, content_type, size_bytes, storage_key, uploaded_at)
            SELECT \(owner), 'f' || i || '.zip', 'application/zip', i, 'k/' || i, i FROM n
            """, rows: rows)
        try fill("""
            INSERT INTO items (account_id, sku, name, guid, created_at, updated_at)
            SELECT \(owner), 'sku-' || i, 'Item ' || i, 'guid-' || i, i, i FROM n
            """, rows: rows)
        try fill("""
            INSERT INTO orders (account_id, number, expiration_date, download_limit, created_at, updated_at)
            SELECT \(owner), 'n' || i, CASE WHEN i % 2 = 0 THEN 1000 ELSE 9000 END, 3, i, i FROM n
            """, rows: rows)
        let item = try XCTUnwrap(db.queryOne("SELECT MIN(id) AS id FROM items WHERE account_id = ?", [account])?.int("id"))
        let order = try XCTUnwrap(db.queryOne("SELECT MIN(id) AS id FROM orders WHERE account_id = ?", [account])?.int("id"))
        try fill("""
            INSERT INTO downloads (account_id, item_id, item_sku, order_ref, filename, downloaded_at)
            SELECT \(owner), CASE WHEN i % 2 = 0 THEN \(item) END, 'sku', CASE WHEN i % 3 = 0 THEN \(order) END, 'f.zip', i FROM n
            """, rows: rows)

        let uploads = UploadService(db: db, storage: storage)
        try assertPagesAgree("uploads") { try uploads.list(accountID: account, page: $0).map(\.id) }
        let items = ItemService(db: db)
        try assertPagesAgree("items") { try items.list(accountID: account, page: $0).map(\.id) }
        let orders = OrderService(db: db, clock: .fixed(5_000))
        for filter in [OrderFilter.all, .current, .expired] {
            try assertPagesAgree("orders \(filter)") { try orders.list(accountID: account, filter: filter, page: $0).map(\.id) }
        }
        let downloads = DownloadService(db: db)
        try assertPagesAgree("downloads") { try downloads.list(accountID: account, page: $0).map(\.id) }
        try assertPagesAgree("downloads of an item") { try downloads.list(accountID: account, itemID: item, page: $0).map(\.id) }
        try assertPagesAgree("downloads of an order") { try downloads.list(accountID: account, orderID: order, page: $0).map(\.id) }
    }

    /// Rows numbered 1…`rows` (`n(i)`) into a statement that inserts from them.
    private func fill(_ insert: String, rows: Int) throws {
        _ = try db.write {
            try db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows)) " + insert, [])
        }
    }

    private func assertPagesAgree(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                                  _ read: (Page) throws -> [Int64]) throws {
        let all = try read(.all)
        XCTAssertEqual(Set(all).count, all.count, name, file: file, line: line)
        let n = all.count, middle = n / 2
        var offsets = [0, 25, OffsetWindow.countFrom - 1, OffsetWindow.countFrom, middle - 30, middle - 12, middle, middle + 1, middle + 40,
                       n - 50, n - 25, n - 24, n - 7, n - 1, n, n + 25]
        offsets = offsets.filter { $0 >= 0 }
        for limit in [25, 100] {
            for offset in offsets {
                let expected = Array(all[min(offset, n)..<min(offset + limit, n)])
                XCTAssertEqual(try read(Page(limit: limit, offset: offset)), expected, "\(name): limit \(limit) offset \(offset) of \(n)",
                               file: file, line: line)
            }
        }
    }
}
