import XCTest
import Store
import Foundation

/// The factory (`Databases.open(url:)`) and the statement rules every driver shares.
final class DatabasesTests: XCTestCase {
    var directory = ""

    override func setUp() {
        directory = NSTemporaryDirectory() + "databases-test-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testSQLiteURLOpensAFileMakingItsDirectories() throws {
        let path = directory + "/deep/er/store.sqlite"
        let db = try Databases.open(url: "sqlite:" + path)
        try db.execute("CREATE TABLE t (v INTEGER)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        // The same file through the URL form with an authority part.
        let again = try Databases.open(url: "sqlite://" + path)
        XCTAssertEqual(try again.query("SELECT * FROM t").count, 0)
    }

    func testOtherURLsAreRefusedByName() {
        for url in ["postgres://localhost/fetchgate", "sqlite:", "sqlite://", "/plain/path.sqlite", ""] {
            XCTAssertThrowsError(try Databases.open(url: url), url) {
                XCTAssertTrue(($0 as? DatabaseUsageError)?.message.contains("unsupported database URL '\(url)'") == true, "\($0)")
            }
        }
    }

    func testRedactedURLsHideOnlyThePassword() {
        XCTAssertEqual(Databases.redacted("postgresql://fg:s3cr:et@db.example:5432/fetchgate?sslmode=require"),
                       "postgresql://fg:***@db.example:5432/fetchgate?sslmode=require")
        XCTAssertEqual(Databases.redacted("postgresql://fg@db/fetchgate?password=hunter2&statement_timeout=5s"),
                       "postgresql://fg@db/fetchgate?password=***&statement_timeout=5s")
        XCTAssertEqual(Databases.redacted("postgresql://db/fetchgate?PASSWORD=x"), "postgresql://db/fetchgate?password=***")
        // An @ in the path or query is not the userinfo's.
        XCTAssertEqual(Databases.redacted("postgresql://db/fg?application_name=a:b@c"), "postgresql://db/fg?application_name=a:b@c")
        XCTAssertEqual(Databases.redacted("sqlite:/var/lib/fetchgate/store.sqlite"), "sqlite:/var/lib/fetchgate/store.sqlite")
    }

    func testOptionsGiveAURL() {
        XCTAssertEqual(Databases.url(given: nil, path: "/run/f.sqlite"), "sqlite:/run/f.sqlite")
        XCTAssertEqual(Databases.url(given: "sqlite:/a", path: "/run/f.sqlite"), "sqlite:/a")
        XCTAssertNil(Databases.url(given: nil, path: nil))
    }

    func testInsertReturnsTheNewRowsID() throws {
        let db = try Databases.open(url: "sqlite:" + directory + "/db.sqlite")
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        XCTAssertEqual(try db.insert("INSERT INTO t (v) VALUES (?) RETURNING id", ["a"]), 1)
        XCTAssertEqual(try db.insert("INSERT INTO t (v) VALUES (?) RETURNING id", ["b"]), 2)
        XCTAssertThrowsError(try db.insert("INSERT INTO t (v) VALUES (?)", ["c"])) {
            XCTAssertTrue($0 is DatabaseUsageError, "\($0)")
        }
    }

    func testOnlyBareQuestionMarksArePlaceholders() throws {
        let db = try Databases.open(url: "sqlite:" + directory + "/db.sqlite")
        for sql in ["SELECT ?1 AS v", "SELECT :v AS v", "SELECT @v AS v", "SELECT $1 AS v", "SELECT $v AS v"] {
            XCTAssertThrowsError(try db.query(sql, [1]), sql) {
                XCTAssertTrue("\($0)".contains("write ? instead"), "\($0)")
            }
        }
        XCTAssertEqual(try db.queryOne("SELECT ? AS a, ? AS b", [1, 2])?.int("b"), 2)
    }

    func testArgumentsMustMatchPlaceholders() throws {
        let db = try Databases.open(url: "sqlite:" + directory + "/db.sqlite")
        XCTAssertThrowsError(try db.query("SELECT ? AS a, ? AS b", [1]))
        XCTAssertThrowsError(try db.query("SELECT ? AS a", [1, 2]))
        XCTAssertThrowsError(try db.execute("SELECT 1", [1]))
    }

    func testBooleansAreBoundAsBooleans() throws {
        XCTAssertEqual(true.sqlValue, .bool(true))
        let db = try Databases.open(url: "sqlite:" + directory + "/db.sqlite")
        try db.execute("CREATE TABLE t (flag INTEGER NOT NULL)")
        try db.execute("INSERT INTO t VALUES (?), (?)", [true, false])
        // SQLite keeps 1 and 0, which TRUE and FALSE (3.23+) match.
        XCTAssertEqual(try db.query("SELECT flag FROM t WHERE flag = TRUE").map { $0.bool("flag") }, [true])
        XCTAssertEqual(try db.query("SELECT flag FROM t WHERE flag = FALSE").map { $0.int("flag") }, [0])
        let row = Row(columns: ["b"], values: [.bool(true)])
        XCTAssertEqual(row.int("b"), 1)
        XCTAssertTrue(row.bool("b"))
    }
}
