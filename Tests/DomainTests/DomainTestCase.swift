import XCTest
import Domain
import Store
import FileStores
import Foundation

/// A fresh database and storage directory per test.
///
/// The database is an SQLite file in the test's directory, unless `FETCHGATE_TEST_DATABASE_URL`
/// names a PostgreSQL server (`postgresql://…`, e.g. a cluster of tests/support/pgcluster.sh):
/// then each test gets a schema of its own there, made empty and dropped after, and every
/// connection to `databaseURL` works in it (libpq's `options=-c search_path=…`).
class DomainTestCase: XCTestCase {
    var directory = ""
    /// The test database, opened like the servers open theirs; more connections open this URL.
    var databaseURL = ""
    var db: (any Database)!
    var storage: LocalDiskStore!
    var scratch: ScratchSpace!
    /// The schemas this test made on the server, dropped in `tearDown`.
    private var schemas: [String] = []

    /// The server the domain suite runs on instead of SQLite files, if any.
    static let server: String? = ProcessInfo.processInfo.environment["FETCHGATE_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "domain-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        databaseURL = try emptyDatabaseURL(name: "db")
        db = try Databases.open(url: databaseURL)
        try Migrator.migrate(db, Schema.migrations, now: 0)
        scratch = ScratchSpace(dataDirectory: directory + "/data")
        try scratch.prepare()
        storage = LocalDiskStore(directory: directory + "/data/files")
        try storage.prepare()
    }

    override func tearDown() {
        db = nil
        if let server = DomainTestCase.server, !schemas.isEmpty, let admin = try? Databases.open(url: server) {
            for schema in schemas { _ = try? admin.execute("DROP SCHEMA \(schema) CASCADE") }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The URL of a new empty database, `name` telling it from the test's others: a file in the
    /// test's directory, or a new schema on the server.
    func emptyDatabaseURL(name: String) throws -> String {
        guard let server = DomainTestCase.server else { return "sqlite:" + directory + "/" + name + ".sqlite" }
        let schema = "test_" + name + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try Databases.open(url: server).execute("CREATE SCHEMA \(schema)")
        schemas.append(schema)
        // A longer statement timeout than the driver's 30 s: one test fills a table with 1 M rows in one statement.
        return server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema + "&statement_timeout=300s"
    }

    /// The engine's plan for a query, as one line: SQLite's `EXPLAIN QUERY PLAN` details, or
    /// PostgreSQL's `EXPLAIN` (after `ANALYZE`, so that a table filled by the test has statistics).
    func queryPlan(_ sql: String, _ arguments: [any SQLBindable]) throws -> String {
        guard DomainTestCase.server != nil else {
            return try db.query("EXPLAIN QUERY PLAN " + sql, arguments).compactMap { $0.string("detail") }.joined(separator: "; ")
        }
        try db.execute("ANALYZE")
        return try db.query("EXPLAIN " + sql, arguments).compactMap { $0.string("QUERY PLAN") }.joined(separator: "; ")
    }

    func makeAccount(_ name: String = "Shop") throws -> (Account, String, String) {
        try AccountService(db: db, clock: .fixed(1_000)).create(.init(name: name))
    }

    func makeUpload(account: Int64, name: String = "file.zip", bytes: [UInt8] = Array("data".utf8)) throws -> Upload {
        let temp = scratch.temporaryPath()
        FileManager.default.createFile(atPath: temp, contents: Data(bytes))
        return try UploadService(db: db, storage: storage, clock: .fixed(2_000))
            .record(accountID: account, filename: name, contentType: nil, temporaryPath: temp, ipAddress: "127.0.0.1")
    }
}
