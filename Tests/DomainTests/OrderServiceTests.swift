import XCTest
import Domain
import Store
import Foundation

final class OrderServiceTests: DomainTestCase {
    var account: Account!
    var orders: OrderService!
    let now: Int64 = 1_700_000_000

    override func setUpWithError() throws {
        try super.setUpWithError()
        (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id, name: "a.zip")
        let items = ItemService(db: db)
        _ = try items.create(accountID: account.id, ItemInput(sku: "A", name: "Item A", uploadID: upload.id))
        _ = try items.create(accountID: account.id, ItemInput(sku: "B", name: "Item B", uploadID: upload.id))
        orders = OrderService(db: db, clock: .fixed(now), customerLink: { "https://shop.example/get/" + $0 })
    }

    func emailJobs() throws -> [Job] {
        try db.query("SELECT id FROM jobs WHERE kind = ? ORDER BY id", [OrderEmailJob.name]).compactMap {
            try JobQueue(db: db).get(id: $0.int("id")!)
        }
    }

    func testCreateTakesAccountDefaultsAndQueuesEmail() throws {
        let order = try orders.create(accountID: account.id, OrderInput(email: "bugs@bunny.com", items: [OrderItemInput(sku: "A")]))
        XCTAssertEqual(order.number, "1001")
        XCTAssertEqual(order.title, "Order #1001")
        XCTAssertEqual(order.expirationDate, now + 240 * 3600)
        XCTAssertEqual(order.downloadLimit, 3)
        XCTAssertEqual(order.items.map(\.downloadsRemaining), [3])
        let jobs = try emailJobs()
        XCTAssertEqual(jobs.count, 1)
        let email = try JobPayload.decode(OrderEmail.self, from: jobs[0].payload)
        XCTAssertEqual(email.to, "bugs@bunny.com")
        XCTAssertTrue(email.body.contains("https://shop.example/get/" + order.items[0].guid), email.body)
        XCTAssertEqual(try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "B")])).number, "1002")
    }

    func testOverridesAndNoEmail() throws {
        let order = try orders.create(accountID: account.id, OrderInput(number: "X-1", expirationDate: now + 60, downloadLimit: 5,
                                                                        items: [OrderItemInput(sku: "A"), OrderItemInput(sku: "B", downloadsRemaining: 1)],
                                                                        sendEmail: false))
        XCTAssertEqual(order.items.map(\.downloadsRemaining), [5, 1])
        XCTAssertEqual(order.expirationDate, now + 60)
        XCTAssertEqual(try emailJobs().count, 0)
    }

    func testCreateErrors() throws {
        _ = try orders.create(accountID: account.id, OrderInput(number: "1", items: [OrderItemInput(sku: "A")]))
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(number: "1", items: [OrderItemInput(sku: "A")]))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("Order 1 already exists"))
        }
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "NOPE")]))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("Unknown SKU NOPE"))
        }
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(title: "only a title")))
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(downloadLimit: -1, items: [OrderItemInput(sku: "A")]))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("download_limit must be between 0 and 1000000000"))
        }
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(email: "a@b\r\nBcc: x@y", items: [OrderItemInput(sku: "A")])))
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(number: "7\r\nX", items: [OrderItemInput(sku: "A")])))
        XCTAssertEqual(try orders.list(accountID: account.id, filter: .all, page: .all).count, 1) // nothing half-written
        XCTAssertEqual(try db.query("SELECT * FROM order_items").count, 1)
    }

    /// An order takes only an address the mailer can send to (one rule, `EmailAddress`):
    /// `a@b` and `a(b)@c.d` were once stored and then failed in the worker forever.
    func testEmailTheMailerWouldRefuseIsRefused() throws {
        for bad in ["a@b", "a(b)@c.d", "a@b.", "a:b@c.d", "<a@b.c>"] {
            XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(email: bad, items: [OrderItemInput(sku: "A")])), bad) {
                guard case .unprocessable(let message)? = $0 as? DomainError else { return XCTFail("\($0)") }
                XCTAssertTrue(message.hasPrefix("email "), message)
            }
        }
        let good = try orders.create(accountID: account.id, OrderInput(email: "a.b+c@d.example", items: [OrderItemInput(sku: "A")]))
        XCTAssertEqual(good.email, "a.b+c@d.example")
        XCTAssertThrowsError(try orders.update(accountID: account.id, number: good.number, OrderInput(email: "a@b")))
        XCTAssertEqual(try orders.get(accountID: account.id, number: good.number).email, "a.b+c@d.example")
        XCTAssertEqual(try orders.list(accountID: account.id, filter: .all, page: .all).count, 1)
    }

    func testAutoNumberSkipsIdsPast64Bits() throws {
        // An all-digit id past Int64 once made `MAX(...) + 1` trap and take the process down.
        _ = try orders.create(accountID: account.id, OrderInput(number: "99999999999999999999999", items: [OrderItemInput(sku: "A")], sendEmail: false))
        _ = try orders.create(accountID: account.id, OrderInput(number: "9223372036854775807", items: [OrderItemInput(sku: "A")], sendEmail: false))
        XCTAssertEqual(try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")], sendEmail: false)).number, "1001")
        _ = try orders.create(accountID: account.id, OrderInput(number: "999999999999999998", items: [OrderItemInput(sku: "A")], sendEmail: false))
        XCTAssertEqual(try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")], sendEmail: false)).number,
                       "999999999999999999")
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")], sendEmail: false))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("Order ids are used up to 999999999999999999: give the order an id"))
        }
    }

    func testLimitsOutOfRangeAreRefusedAndNothingChanges() throws {
        _ = try orders.create(accountID: account.id, OrderInput(number: "L", downloadLimit: 5, items: [OrderItemInput(sku: "A")], sendEmail: false))
        for limit in [Int64.max, 1_000_000_001, -1, Int64.min] {
            XCTAssertThrowsError(try orders.update(accountID: account.id, number: "L", OrderInput(downloadLimit: limit))) {
                XCTAssertEqual($0 as? DomainError, .unprocessable("download_limit must be between 0 and 1000000000"))
            }
            XCTAssertThrowsError(try orders.update(accountID: account.id, number: "L",
                                                   OrderInput(items: [OrderItemInput(sku: "A", downloadsRemaining: limit)]))) {
                XCTAssertEqual($0 as? DomainError, .unprocessable("downloads_remaining must be between 0 and 1000000000"))
            }
        }
        XCTAssertEqual(try orders.get(accountID: account.id, number: "L").items.map(\.downloadsRemaining), [5])
        let raised = try orders.update(accountID: account.id, number: "L", OrderInput(downloadLimit: 1_000_000_000))
        XCTAssertEqual(raised.items.map(\.downloadsRemaining), [1_000_000_000])
    }

    func testDotAndCommandIdsAreRefused() throws {
        for id in [".", "..", "create", "a/b", "a\u{0}b"] {
            XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(number: id, items: [OrderItemInput(sku: "A")]))) {
                guard case .invalid = $0 as? DomainError else { return XCTFail("\(id): \($0)") }
            }
        }
        XCTAssertThrowsError(try orders.create(accountID: account.id, OrderInput(title: String(repeating: "t", count: 1025), items: [OrderItemInput(sku: "A")]))) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("title is longer than 1024 bytes"))
        }
        XCTAssertEqual(try orders.list(accountID: account.id, filter: .all, page: .all).count, 0)
    }

    func testClampNeverTraps() {
        let r = FieldRules.downloadCount
        XCTAssertEqual(FieldRules.clamp(5, plus: .max, minus: 5, to: r), r.upperBound)
        XCTAssertEqual(FieldRules.clamp(5, plus: 1, minus: .max, to: r), 0)
        XCTAssertEqual(FieldRules.clamp(.max, plus: .max, minus: .min, to: r), r.upperBound)
        XCTAssertEqual(FieldRules.clamp(3, plus: 10, minus: 5, to: r), 8)
        XCTAssertEqual(FieldRules.clamp(3, plus: 1, minus: 5, to: r), 0)
    }

    func testUpdateRenamesAndReplacesItemsKeepingLog() throws {
        let order = try orders.create(accountID: account.id, OrderInput(number: "1", items: [OrderItemInput(sku: "A"), OrderItemInput(sku: "B")], sendEmail: false))
        let linkA = order.items[0].guid
        _ = try DeliveryService(db: db, clock: .fixed(now)).claimOrderLink(guid: order.items[1].guid, ipAddress: "1.2.3.4")
        let updated = try orders.update(accountID: account.id, number: "1",
                                        OrderInput(number: "2", downloadLimit: 4, items: [OrderItemInput(sku: "A")]))
        XCTAssertEqual(updated.number, "2")
        XCTAssertEqual(updated.items.map(\.guid), [linkA]) // kept item keeps its link
        XCTAssertEqual(updated.items[0].downloadsRemaining, 4) // limit 3 → 4 moves remaining by +1
        XCTAssertThrowsError(try orders.get(accountID: account.id, number: "1"))
        let log = try DownloadService(db: db).list(accountID: account.id, page: .all)
        XCTAssertEqual(log.count, 1) // B's download stays in the log
        XCTAssertEqual(log[0].orderNumber, "2")
        XCTAssertEqual(try emailJobs().count, 0) // update does not mail by default
    }

    func testFiltersExpireAndSendEmail() throws {
        _ = try orders.create(accountID: account.id, OrderInput(number: "cur", items: [OrderItemInput(sku: "A")], sendEmail: false))
        _ = try orders.create(accountID: account.id, OrderInput(number: "man", items: [OrderItemInput(sku: "A")], sendEmail: false), manual: true)
        try orders.expire(accountID: account.id, number: "cur")
        XCTAssertEqual(try orders.list(accountID: account.id, filter: .expired, page: .all).map(\.number), ["cur"])
        XCTAssertEqual(try orders.list(accountID: account.id, filter: .current, page: .all).map(\.number), ["man"])
        XCTAssertEqual(try orders.list(accountID: account.id, filter: .manual, page: .all).map(\.number), ["man"])
        XCTAssertEqual(try orders.list(accountID: account.id, filter: .all, page: Page(limit: 1, offset: 1)).map(\.number), ["man"])
        // send_email without an address is refused; with one it resets the expiry.
        XCTAssertThrowsError(try orders.sendEmail(accountID: account.id, number: "cur"))
        _ = try orders.update(accountID: account.id, number: "cur", OrderInput(email: "x@y.z"))
        try orders.sendEmail(accountID: account.id, number: "cur")
        XCTAssertEqual(try orders.get(accountID: account.id, number: "cur").expirationDate, now + 240 * 3600)
        try orders.sendEmail(accountID: account.id, number: "cur", expirationDate: now + 5)
        XCTAssertEqual(try orders.get(accountID: account.id, number: "cur").expirationDate, now + 5)
        try orders.sendEmail(accountID: account.id, number: "cur", resetExpiration: false)
        XCTAssertEqual(try orders.get(accountID: account.id, number: "cur").expirationDate, now + 5)
        XCTAssertEqual(try emailJobs().count, 3)
    }

    func testDeletingItemRemovesItFromOrders() throws {
        _ = try orders.create(accountID: account.id, OrderInput(number: "1", items: [OrderItemInput(sku: "A"), OrderItemInput(sku: "B")], sendEmail: false))
        try ItemService(db: db).delete(accountID: account.id, sku: "B")
        XCTAssertEqual(try orders.get(accountID: account.id, number: "1").items.map(\.sku), ["A"])
    }

    func testOtherTenantsOrdersAreInvisible() throws {
        _ = try orders.create(accountID: account.id, OrderInput(number: "1", items: [OrderItemInput(sku: "A")], sendEmail: false))
        let (other, _, _) = try makeAccount("Other")
        XCTAssertThrowsError(try orders.get(accountID: other.id, number: "1")) { XCTAssertEqual($0 as? DomainError, .notFound("Order 1 not found")) }
        XCTAssertThrowsError(try orders.expire(accountID: other.id, number: "1"))
        XCTAssertThrowsError(try orders.create(accountID: other.id, OrderInput(items: [OrderItemInput(sku: "A")]))) // A is not theirs
    }
}
