import XCTest
import Store
import Foundation

final class SQLiteDatabaseTests: XCTestCase {
    var path = ""

    override func setUp() {
        path = NSTemporaryDirectory() + "store-test-\(UUID().uuidString).sqlite"
    }

    override func tearDown() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    func testWALAndForeignKeys() throws {
        let db = try SQLiteDatabase(path: path)
        XCTAssertEqual(try db.queryOne("PRAGMA journal_mode")?.string("journal_mode"), "wal")
        XCTAssertEqual(try db.queryOne("PRAGMA foreign_keys")?.int("foreign_keys"), 1)
    }

    /// Another process's write lock held past the busy timeout is a distinguishable error.
    func testWriteLockHeldElsewhereIsBusy() throws {
        let holder = try SQLiteDatabase(path: path)
        _ = try holder.execute("CREATE TABLE t (i INTEGER)")
        let other = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: 50)
        try holder.executeScript("BEGIN IMMEDIATE")  // as another process would: not through this process's mutex
        XCTAssertThrowsError(try other.write { try other.execute("INSERT INTO t VALUES (1)") }) { error in
            XCTAssertEqual((error as? any DatabaseError)?.isBusy, true, "\(error)")
            XCTAssertEqual((error as? any DatabaseError)?.isConstraintViolation, false)
        }
        XCTAssertEqual(try other.query("SELECT i FROM t").count, 0)  // reads go on under WAL
        try holder.executeScript("COMMIT")
        try other.write { try other.execute("INSERT INTO t VALUES (1)") }
        XCTAssertEqual(try other.query("SELECT i FROM t").count, 1)
    }

    func testBindingsAndTypes() throws {
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [42, 1.5, "héllo", SQLValue.blob([0, 1, 255]), nil as String?])
        let row = try XCTUnwrap(db.queryOne("SELECT * FROM t"))
        XCTAssertEqual(row.int("i"), 42)
        XCTAssertEqual(row.double("r"), 1.5)
        XCTAssertEqual(row.string("s"), "héllo")
        XCTAssertEqual(row["b"], .blob([0, 1, 255]))
        XCTAssertEqual(row["n"], .null)
    }

    func testTextIsBoundWithItsLengthNotCutAtNUL() throws {
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t (s TEXT NOT NULL)")
        try db.execute("INSERT INTO t VALUES (?), (?)", ["a\u{0}b", ""])
        let rows = try db.query("SELECT s, LENGTH(CAST(s AS BLOB)) AS n FROM t ORDER BY rowid")
        XCTAssertEqual(rows.map { $0.string("s") }, ["a\u{0}b", ""])
        XCTAssertEqual(rows.map { $0.int("n") }, [3, 0])
        XCTAssertEqual(try db.queryOne("SELECT COUNT(*) AS c FROM t WHERE s = ?", ["a"])?.int("c"), 0)
    }

    func testHugeRealReadAsIntegerIsNilNotATrap() throws {
        let db = try SQLiteDatabase(path: path)
        XCTAssertNil(try db.queryOne("SELECT 1e300 AS v")?.int("v"))
        XCTAssertEqual(try db.queryOne("SELECT 2.9 AS v")?.int("v"), 2)
    }

    func testTransactionRollsBackOnError() throws {
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t (v INTEGER UNIQUE)")
        struct Boom: Error {}
        XCTAssertThrowsError(try db.write {
            try db.execute("INSERT INTO t VALUES (1)")
            throw Boom()
        })
        XCTAssertEqual(try db.query("SELECT * FROM t").count, 0)
        // Nested: the inner savepoint rolls back alone.
        try db.write {
            try db.execute("INSERT INTO t VALUES (1)")
            _ = try? db.write { try db.execute("INSERT INTO t VALUES (1)") }
            try db.execute("INSERT INTO t VALUES (2)")
        }
        XCTAssertEqual(try db.query("SELECT v FROM t ORDER BY v").map { $0.int("v") }, [1, 2])
    }

    /// A COMMIT that fails (here a deferred foreign key, checked only at COMMIT; in production a
    /// full disk) rolls back, and the connection's next transactions work: it once left the
    /// nesting depth at -1 and every later write failed with `near "-": syntax error`.
    func testFailedCommitLeavesTheConnectionUsable() throws {
        let db = try SQLiteDatabase(path: path)
        try db.executeScript("""
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
            """)
        XCTAssertThrowsError(try db.write { try db.execute("INSERT INTO child VALUES (7)") }) { error in
            XCTAssertEqual((error as? any DatabaseError)?.isConstraintViolation, true, "\(error)")
        }
        XCTAssertEqual(try db.query("SELECT * FROM child").count, 0)
        try db.write {
            try db.execute("INSERT INTO parent VALUES (7)")
            try db.execute("INSERT INTO child VALUES (7)")
        }
        try db.write { try db.write { try db.execute("INSERT INTO parent VALUES (8)") } }
        XCTAssertEqual(try db.query("SELECT id FROM parent ORDER BY id").map { $0.int("id") }, [7, 8])
    }

    func testSnapshotRefusesWrites() throws {
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t (v INTEGER)")
        XCTAssertThrowsError(try db.snapshot(if: true) { try db.write { try db.execute("INSERT INTO t VALUES (1)") } })
        try db.snapshot(if: false) { try db.write { try db.execute("INSERT INTO t VALUES (2)") } }
        XCTAssertEqual(try db.snapshot(if: true) { try db.query("SELECT v FROM t").map { $0.int("v") } }, [2])
        // Nested writes inside a write transaction stay allowed.
        try db.write { try db.write { try db.execute("INSERT INTO t VALUES (3)") } }
    }

    func testConstraintViolationIsRecognised() throws {
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE t (v INTEGER UNIQUE)")
        try db.execute("INSERT INTO t VALUES (1)")
        XCTAssertThrowsError(try db.execute("INSERT INTO t VALUES (1)")) { error in
            XCTAssertTrue((error as? any DatabaseError)?.isConstraintViolation ?? false)
        }
    }

    func testMigrationsApplyOnceInOrder() throws {
        let db = try SQLiteDatabase(path: path)
        let migrations = [Migration(2, "b", "ALTER TABLE a ADD COLUMN y INTEGER;"), Migration(1, "a", "CREATE TABLE a (x INTEGER);")]
        XCTAssertEqual(try Migrator.migrate(db, migrations, now: 0), [1, 2])
        XCTAssertEqual(try Migrator.migrate(db, migrations, now: 0), [])
        XCTAssertEqual(try Migrator.currentVersion(db), 2)
        // A failing migration leaves nothing behind.
        XCTAssertThrowsError(try Migrator.migrate(db, migrations + [Migration(3, "bad", "CREATE TABLE c (z); SELECT nope FROM nothing;")], now: 0))
        XCTAssertEqual(try Migrator.currentVersion(db), 2)
        XCTAssertNil(try db.queryOne("SELECT name FROM sqlite_master WHERE name = 'c'"))
    }

    /// Two connections incrementing one counter under BEGIN IMMEDIATE lose no update.
    func testConcurrentReadModifyWriteLosesNothing() throws {
        let setup = try SQLiteDatabase(path: path)
        try setup.execute("CREATE TABLE c (n INTEGER)")
        try setup.execute("INSERT INTO c VALUES (0)")
        let path = self.path
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let db = try! SQLiteDatabase(path: path)
            for _ in 0..<100 {
                try! db.write {
                    let n = try db.queryOne("SELECT n FROM c")!.int("n")!
                    try db.execute("UPDATE c SET n = ?", [n + 1])
                }
            }
        }
        XCTAssertEqual(try setup.queryOne("SELECT n FROM c")?.int("n"), 400)
    }
}
