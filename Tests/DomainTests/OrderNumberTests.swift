import XCTest
@testable import Domain
import Store
import Foundation

/// Auto-numbering reads `orders.number_value` (migration 6): the value of ids of 1 to 18 ASCII
/// digits, NULL for every other id, kept by the domain on create and rename.
final class OrderNumberTests: DomainTestCase {
    func testNumberValueIsSetOnlyForShortAllDigitIds() {
        XCTAssertEqual(OrderService.numberValue("1001"), 1001)
        XCTAssertEqual(OrderService.numberValue("0007"), 7)
        XCTAssertEqual(OrderService.numberValue("999999999999999999"), 999_999_999_999_999_999)
        for id in ["", "1000000000000000000", "00000000000000000001", "12a", "-5", "+5", " 5", "5 ", "١٢٣", "1.5", "0x1F"] {
            XCTAssertNil(OrderService.numberValue(id), id)
        }
    }

    func testRenamesKeepTheValue() throws {
        let (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id)
        _ = try ItemService(db: db).create(accountID: account.id, ItemInput(sku: "A", uploadID: upload.id))
        let orders = OrderService(db: db)
        _ = try orders.create(accountID: account.id, OrderInput(number: "5000", items: [OrderItemInput(sku: "A")], sendEmail: false))
        _ = try orders.update(accountID: account.id, number: "5000", OrderInput(number: "X-5000"))
        XCTAssertEqual(try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")], sendEmail: false)).number, "1001")
        _ = try orders.update(accountID: account.id, number: "X-5000", OrderInput(number: "7000"))
        XCTAssertEqual(try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")], sendEmail: false)).number, "7001")
    }

    /// Orders made before migration 6 get their value from the migration itself.
    func testMigrationFillsTheValueOfExistingOrders() throws {
        let old = try Databases.open(url: emptyDatabaseURL(name: "old"))
        try Migrator.migrate(old, Schema.migrations.filter { $0.version <= 4 }, now: 0)
        try old.execute("INSERT INTO accounts (id, name, created_at) VALUES (1, 'Shop', 0), (2, 'Other', 0)")
        let ids = ["41", "0000000000000000099", "000000000000000077", "12a", "a12", "١٢٣", "", "99999999999999999999", "55"]
        func account(_ id: String) -> Int64 { id == "55" ? 2 : 1 }
        for id in ids {
            try old.execute("""
                INSERT INTO orders (account_id, number, expiration_date, download_limit, created_at, updated_at)
                VALUES (?, ?, 0, 1, 0, 0)
                """, [account(id), id])
        }
        try Schema.migrate(old)
        let values = try old.query("SELECT number, number_value FROM orders ORDER BY id").map {
            "\($0.string("number")!)=\($0.int("number_value").map(String.init) ?? "nil")"
        }
        XCTAssertEqual(values, ["41=41", "0000000000000000099=nil", "000000000000000077=77", "12a=nil", "a12=nil", "١٢٣=nil", "=nil",
                                "99999999999999999999=nil", "55=55"])
        // The same rule in Swift and in the migration.
        for id in ids {
            let stored = try old.queryOne("SELECT number_value AS v FROM orders WHERE account_id = ? AND number = ?", [account(id), id])
            XCTAssertEqual(OrderService.numberValue(id), stored?.int("v"), id)
        }
        XCTAssertEqual(try old.queryOne("SELECT MAX(number_value) AS n FROM orders WHERE account_id = ?", [1])?.int("n"), 77)
    }
}
