import XCTest
import Domain
import Store
import Foundation

final class IdempotencyServiceTests: DomainTestCase {
    var account: Account!
    var other: Account!
    var clockValue = ClockBox(1_700_000_000)

    final class ClockBox: @unchecked Sendable {
        var now: Int64
        init(_ now: Int64) { self.now = now }
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        (account, _, _) = try makeAccount("Shop")
        (other, _, _) = try makeAccount("Other")
        let upload = try makeUpload(account: account.id)
        _ = try ItemService(db: db).create(accountID: account.id, ItemInput(sku: "A", uploadID: upload.id))
    }

    var service: IdempotencyService {
        let box = clockValue
        return IdempotencyService(db: db, clock: Clock { box.now })
    }

    var orders: OrderService { OrderService(db: db) }

    func attempt(_ key: String = "key-1", fingerprint: String = "f1", account: Int64? = nil,
                 scope: String = "POST /api/orders") -> IdempotencyService.Attempt {
        .init(accountID: account ?? self.account.id, scope: scope, key: key, fingerprint: fingerprint)
    }

    func orderCount() throws -> Int64 { try db.queryOne("SELECT COUNT(*) AS n FROM orders")?.int("n") ?? -1 }

    /// Creates an auto-numbered order under the key; the stored result is the order number.
    func createOrder(_ a: IdempotencyService.Attempt) throws -> IdempotencyService.Outcome<Order> {
        try service.run(a, keep: { .init(status: 201, headers: "X-Number: \($0.number)", body: Array($0.number.utf8)) }) {
            try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")]))
        }
    }

    func testSameKeyAndRequestReplaysTheFirstResultAndCreatesNothingMore() throws {
        guard case .created(let first) = try createOrder(attempt()) else { return XCTFail("first run creates") }
        guard case .replayed(let again) = try createOrder(attempt()) else { return XCTFail("retry replays") }
        XCTAssertEqual(again, .init(status: 201, headers: "X-Number: \(first.number)", body: Array(first.number.utf8)))
        XCTAssertEqual(try orderCount(), 1)
    }

    func testSameKeyWithAnotherRequestIsRefused() throws {
        _ = try createOrder(attempt(fingerprint: "f1"))
        XCTAssertThrowsError(try createOrder(attempt(fingerprint: "f2"))) { XCTAssertEqual($0 as? IdempotencyError, .reused) }
        XCTAssertEqual(try orderCount(), 1)
    }

    func testKeysArePerAccountAndPerScope() throws {
        _ = try createOrder(attempt())
        guard case .created = try createOrder(attempt(scope: "POST /api/orders/create")) else { return XCTFail("other scope") }
        // Another tenant using the same key string is a different key (and sees nothing of the first).
        let result = try service.run(attempt(account: other.id), keep: { (_: Int) in .init(status: 201, headers: "", body: [1]) }) { 5 }
        guard case .created(5) = result else { return XCTFail("other account") }
        XCTAssertEqual(try orderCount(), 2)
    }

    func testFailedCreateStoresNothingAndRollsBack() throws {
        struct Boom: Error {}
        XCTAssertThrowsError(try service.run(attempt(), keep: { (_: Order) in .init(status: 201, headers: "", body: []) }) {
            _ = try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")]))
            throw Boom()
        })
        XCTAssertEqual(try orderCount(), 0)
        guard case .created = try createOrder(attempt()) else { return XCTFail("a retry after a failure runs again") }
        XCTAssertEqual(try orderCount(), 1)
    }

    func testResultNotKeptIsNotReplayed() throws {
        _ = try service.run(attempt(), keep: { (_: Int) in nil }) { 1 }
        guard case .created = try createOrder(attempt()) else { return XCTFail("nothing was kept") }
    }

    func testEntriesExpireAfterTheWindowAndArePrunedOnInsert() throws {
        _ = try createOrder(attempt("old"))
        clockValue.now += IdempotencyService.defaultWindow - 1
        guard case .replayed = try createOrder(attempt("old")) else { return XCTFail("still inside the window") }
        clockValue.now += 1
        // Exactly 24 h later the key is forgotten: the same request creates again, and the insert
        // replaced the expired entry.
        guard case .created = try createOrder(attempt("old")) else { return XCTFail("expired key runs again") }
        XCTAssertEqual(try orderCount(), 2)
        _ = try createOrder(attempt("other-key"))
        clockValue.now += IdempotencyService.defaultWindow
        _ = try service.run(attempt("fresh"), keep: { (_: Int) in .init(status: 201, headers: "", body: [1]) }) { 1 }
        let keys = try db.query("SELECT idempotency_key FROM idempotency_keys ORDER BY idempotency_key").compactMap { $0.string("idempotency_key") }
        XCTAssertEqual(keys, ["fresh"])
    }

    func testConcurrentSendsOnTwoConnectionsCreateOnce() throws {
        // Two connections (two server threads or processes) pass the first look-up together;
        // the look-up under the write lock lets only one of them create.
        let second = try Databases.open(url: databaseURL)
        let service2 = IdempotencyService(db: second)
        let orders2 = OrderService(db: second)
        var inner: IdempotencyService.Outcome<Order>?
        let outer = try service.run(attempt(), keep: { .init(status: 201, headers: "", body: Array($0.number.utf8)) }) { () -> Order in
            // The other request arrives while this one has looked up its key but not yet written.
            inner = try service2.run(attempt(), keep: { .init(status: 201, headers: "", body: Array($0.number.utf8)) }) {
                try orders2.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")]))
            }
            return try orders.create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "A")]))
        }
        guard case .created = inner else { return XCTFail("the request that wrote first creates") }
        guard case .replayed(let result) = outer else { return XCTFail("the later writer gets the replay") }
        XCTAssertEqual(result.body, Array("1001".utf8))
        XCTAssertEqual(try orderCount(), 1)
    }

    func testKeyValidity() {
        XCTAssertTrue(IdempotencyService.isValid(key: "a"))
        XCTAssertTrue(IdempotencyService.isValid(key: String(repeating: "k", count: 255)))
        XCTAssertTrue(IdempotencyService.isValid(key: "with space ~!"))
        XCTAssertFalse(IdempotencyService.isValid(key: ""))
        XCTAssertFalse(IdempotencyService.isValid(key: String(repeating: "k", count: 256)))
        XCTAssertFalse(IdempotencyService.isValid(key: "tab\there"))
        XCTAssertFalse(IdempotencyService.isValid(key: "café"))
        XCTAssertFalse(IdempotencyService.isValid(key: "del\u{7f}"))
    }

    func testInvalidKeyIsRefusedBeforeAnything() throws {
        XCTAssertThrowsError(try createOrder(attempt(String(repeating: "k", count: 256)))) {
            XCTAssertEqual($0 as? IdempotencyError, .invalidKey)
        }
        XCTAssertEqual(try orderCount(), 0)
    }
}
