import XCTest
import Domain
import Store
import Foundation

final class DeliveryServiceTests: DomainTestCase {
    func testClaimsStopAtZeroAndExpiry() throws {
        let (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id, name: "song.mp3", bytes: Array(repeating: 1, count: 10))
        _ = try ItemService(db: db).create(accountID: account.id, ItemInput(sku: "S", uploadID: upload.id))
        let t: Int64 = 1_000_000
        let order = try OrderService(db: db, clock: .fixed(t)).create(
            accountID: account.id, OrderInput(number: "1", expirationDate: t + 100, items: [OrderItemInput(sku: "S", downloadsRemaining: 2)], sendEmail: false))
        let guid = order.items[0].guid
        let delivery = DeliveryService(db: db, clock: .fixed(t))
        guard case .deliver(let file, _) = try delivery.claimOrderLink(guid: guid, ipAddress: "10.0.0.1") else { return XCTFail() }
        XCTAssertEqual(file.filename, "song.mp3")
        XCTAssertNotEqual(try delivery.claimOrderLink(guid: guid, ipAddress: "10.0.0.1"), .exhausted)
        XCTAssertEqual(try delivery.claimOrderLink(guid: guid, ipAddress: "10.0.0.1"), .exhausted)
        XCTAssertEqual(try delivery.claimOrderLink(guid: "nope", ipAddress: ""), .notFound)
        XCTAssertEqual(try DeliveryService(db: db, clock: .fixed(t + 100)).claimOrderLink(guid: guid, ipAddress: ""), .expired)
        let log = try DownloadService(db: db).list(accountID: account.id, page: .all)
        XCTAssertEqual(log.count, 2)
        XCTAssertEqual(log.map(\.orderNumber), ["1", "1"])
        XCTAssertEqual(log.map(\.sizeBytes), [10, 10])
        XCTAssertEqual(try OrderService(db: db).get(accountID: account.id, number: "1").downloadCount, 2)
        XCTAssertEqual(try ItemService(db: db).get(accountID: account.id, sku: "S").downloadCount, 2)
    }

    func testLookingOrSendingNothingTakesNothing() throws {
        let (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id, name: "a.bin", bytes: Array(repeating: 1, count: 10))
        let item = try ItemService(db: db).create(accountID: account.id, ItemInput(sku: "S", uploadID: upload.id))
        let order = try OrderService(db: db).create(
            accountID: account.id, OrderInput(number: "1", items: [OrderItemInput(sku: "S", downloadsRemaining: 1)], sendEmail: false))
        let guid = order.items[0].guid
        let delivery = DeliveryService(db: db)
        let look = DeliveryService.Request(ipAddress: "", takes: false)
        let unsendable = DeliveryService.Request(ipAddress: "") { $0.sizeBytes > 100 }
        for _ in 0..<3 {
            guard case .deliver(_, nil) = try delivery.claimOrderLink(guid: guid, look) else { return XCTFail() }
            guard case .unsendable = try delivery.claimOrderLink(guid: guid, unsendable) else { return XCTFail() }
            guard case .deliver(_, nil) = try delivery.claimPermalink(guid: item.guid, look) else { return XCTFail() }
            guard case .unsendable = try delivery.claimPermalink(guid: item.guid, unsendable) else { return XCTFail() }
        }
        XCTAssertEqual(try DownloadService(db: db).list(accountID: account.id, page: .all).count, 0)
        guard case .deliver(_, .some) = try delivery.claimOrderLink(guid: guid, ipAddress: "") else { return XCTFail() }
        XCTAssertEqual(try delivery.claimOrderLink(guid: guid, look), .exhausted)
    }

    func testPermalinkLogsWithoutOrder() throws {
        let (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id)
        let item = try ItemService(db: db).create(accountID: account.id, ItemInput(sku: "P", uploadID: upload.id))
        let bare = try ItemService(db: db).create(accountID: account.id, ItemInput(sku: "NOFILE"))
        let delivery = DeliveryService(db: db)
        guard case .deliver = try delivery.claimPermalink(guid: item.guid, ipAddress: "::1") else { return XCTFail() }
        XCTAssertEqual(try delivery.claimPermalink(guid: bare.guid, ipAddress: ""), .noFile)
        XCTAssertNil(try DownloadService(db: db).list(accountID: account.id, page: .all).first?.orderNumber)
    }

    /// Many connections racing for three downloads: exactly three win.
    func testConcurrentClaimsNeverOverspend() throws {
        let (account, _, _) = try makeAccount()
        let upload = try makeUpload(account: account.id)
        _ = try ItemService(db: db).create(accountID: account.id, ItemInput(sku: "R", uploadID: upload.id))
        let order = try OrderService(db: db).create(accountID: account.id, OrderInput(items: [OrderItemInput(sku: "R", downloadsRemaining: 3)], sendEmail: false))
        let guid = order.items[0].guid
        let url = databaseURL
        let wins = Counter()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let connection = try! Databases.open(url: url)
            for _ in 0..<4 {
                if case .deliver = try! DeliveryService(db: connection).claimOrderLink(guid: guid, ipAddress: "") { wins.add() }
            }
        }
        XCTAssertEqual(wins.value, 3)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
