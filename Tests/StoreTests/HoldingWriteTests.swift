import XCTest
import Store
import Foundation

/// `holdingWrite`: the writes of its body and its `end` commit as one transaction.
final class HoldingWriteTests: XCTestCase {
    var path = ""
    var db: SQLiteDatabase!
    struct Boom: Error {}

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "holding-test-\(UUID().uuidString).sqlite"
        db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t (v INTEGER UNIQUE)")
    }

    override func tearDown() {
        db = nil
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    func values(_ connection: SQLiteDatabase? = nil) throws -> [Int64] {
        try (connection ?? db).query("SELECT v FROM t ORDER BY v").compactMap { $0.int("v") }
    }

    func testBodyWritesAndEndCommitTogether() throws {
        var began = 0
        let other = try SQLiteDatabase(path: path)
        let result = try db.holdingWrite(begin: { began += 1 }, {
            try db.write { try db.execute("INSERT INTO t VALUES (1)") }
            // The first write's transaction is still open: another connection sees nothing yet.
            XCTAssertEqual(try values(other), [])
            try db.write { try db.execute("INSERT INTO t VALUES (2)") }
            return 7
        }, end: { value in
            XCTAssertEqual(value, 7)
            try db.execute("INSERT INTO t VALUES (3)")
        })
        XCTAssertEqual(result, 7)
        XCTAssertEqual(began, 1, "begin runs once, at the first write")
        XCTAssertEqual(try values(other), [1, 2, 3])
    }

    func testEndFailureRollsBackTheBodysWrites() throws {
        XCTAssertThrowsError(try db.holdingWrite(begin: {}, {
            try db.write { try db.execute("INSERT INTO t VALUES (1)") }
        }, end: { _ in throw Boom() }))
        XCTAssertEqual(try values(), [])
        // The connection is usable again, outside any transaction.
        try db.write { try db.execute("INSERT INTO t VALUES (5)") }
        XCTAssertEqual(try values(), [5])
    }

    func testBeginRefusingStopsTheFirstWrite() throws {
        var reached = false
        XCTAssertThrowsError(try db.holdingWrite(begin: { throw Boom() }, {
            try db.write {
                reached = true
                try db.execute("INSERT INTO t VALUES (1)")
            }
        }, end: { _ in XCTFail("end must not run") })) { XCTAssertTrue($0 is Boom) }
        XCTAssertFalse(reached)
        XCTAssertEqual(try values(), [])
    }

    func testBodyWithoutWritesStillRunsBeginAndEndInOneWrite() throws {
        var began = false
        try db.holdingWrite(begin: { began = true }, { 1 }, end: { _ in try db.execute("INSERT INTO t VALUES (9)") })
        XCTAssertTrue(began)
        XCTAssertEqual(try values(), [9])
    }

    func testFailedInnerWriteRollsBackOnlyItself() throws {
        try db.holdingWrite(begin: {}, {
            try db.write { try db.execute("INSERT INTO t VALUES (1)") }
            XCTAssertThrowsError(try db.write {
                try db.execute("INSERT INTO t VALUES (2)")
                try db.execute("INSERT INTO t VALUES (1)") // unique violation
            })
        }, end: { _ in })
        XCTAssertEqual(try values(), [1])
    }

    func testNestingInsideATransactionIsRefused() throws {
        XCTAssertThrowsError(try db.write { try db.holdingWrite(begin: {}, { 1 }, end: { _ in }) })
    }
}
