import XCTest
import Domain
import Store

/// `DataCopy` (`fetchgate migrate-data`): an SQLite store copied into an empty database of the
/// suite's engine (another SQLite file, or a schema on FETCHGATE_TEST_DATABASE_URL's server).
final class DataCopyTests: DomainTestCase {
    var source: (any Database)!
    var target: (any Database)!

    override func setUpWithError() throws {
        try super.setUpWithError()
        source = try Databases.open(url: "sqlite:" + directory + "/source.sqlite")
        try Schema.migrate(source, clock: .fixed(1))
        target = try Databases.open(url: try emptyDatabaseURL(name: "target"))
        try fill(source)
    }

    override func tearDown() {
        source = nil
        target = nil
        super.tearDown()
    }

    /// A row or more in every table, with NULLs, blobs, reals, booleans, big integers, non-ASCII
    /// text, composite and text keys, and a job whose parent is another job.
    func fill(_ db: any Database) throws {
        let hash: [UInt8] = [0, 1, 2, 0xfe, 0xff, 0x5c, 0x27]
        for n in 1...5 {
            try db.execute("INSERT INTO accounts (id, name, email, created_at, webhook_secret, signup_name) VALUES (?, ?, ?, ?, ?, ?)",
                           [n, "Shop \(n) — é", "s\(n)@example.com", 1_000 + n, n == 1 ? "whsec_x" : nil, n == 2 ? "shop 2" : nil])
        }
        try db.execute("INSERT INTO credentials (id, account_id, api_key, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)",
                       [1, 1, "key1", SQLValue.blob(hash), 10, SQLValue.null, 7, 2, "key2", SQLValue.blob([]), 11, 12])
        try db.execute("INSERT INTO uploads (id, account_id, filename, content_type, size_bytes, storage_key, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [3, 1, "a.zip", "application/zip", Int64.max - 1, "ab/cd", 20])
        try db.execute("INSERT INTO items (id, account_id, sku, name, price, guid, upload_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [1, 1, "SKU-1", "One", 9.99, "g1", 3, 30, 31, 2, 1, "SKU-2", "", 0.0, "g2", SQLValue.null, 30, 30])
        try db.execute("INSERT INTO downloads (id, account_id, item_id, item_sku, order_ref, filename, downloaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [1, 1, 1, "SKU-1", SQLValue.null, "a.zip", 40])
        try db.execute("INSERT INTO orders (id, account_id, number, expiration_date, download_limit, manual, created_at, updated_at, number_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [1, 1, "1001", 99, 3, true, 50, 50, 1001, 4, 1, "A-7", 99, 0, false, 51, 52, SQLValue.null])
        try db.execute("INSERT INTO order_items (id, order_id, item_id, guid, downloads_remaining, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       [1, 1, 1, "oi1", 2, 50])
        try db.execute("INSERT INTO jobs (id, account_id, kind, payload, run_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       [1, 1, "fetch", "{\"a\":1}", 60, 60])
        try db.execute("INSERT INTO jobs (id, account_id, kind, payload, state, run_at, created_at, parent_id, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [1 << 40, SQLValue.null, "order-email", "x", "failed", 61, 61, 1, "it's\nbroken"])
        try db.execute("INSERT INTO media_files (id, public_id, account_id, name, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [2, "file_1", 1, "movie.mp4", "upload", 70, 70])
        for (n, key) in ["k1", "k2", "k3"].enumerated() {
            try db.execute("INSERT INTO idempotency_keys (account_id, scope, idempotency_key, fingerprint, status, headers, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [1, n == 2 ? "b" : "a", key, "fp", 201, "{}", n == 0 ? SQLValue.null : SQLValue.blob(hash), 80])
        }
        try db.execute("INSERT INTO fetches (id, public_id, account_id, url, quality, status, progress_percent, created_at, options) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [5, "fetch_1", 1, "https://example.com/v", "best", "done", 12.5, 90, SQLValue.null])
        try db.execute("INSERT INTO webhook_deliveries (id, account_id, subject_id, message_id, url, attempt, attempted_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [1, 1, "fetch_1", "msg_1", "https://example.com/h", 1, 95, 200])
        try db.execute("INSERT INTO batches (id, public_id, account_id, state, created_at) VALUES (?, ?, ?, ?, ?)",
                       [1, "batch_1", 1, "paused", 96])
        try db.execute("INSERT INTO buckets (id, account_id, provider, bucket, path_style, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       [1, 1, "s3", "b", true, 97])
        try db.execute("INSERT INTO signup_attempts (address, window_start, attempts) VALUES (?, ?, ?), (?, ?, ?)",
                       ["127.0.0.1", 3_600, 2, "::1", 3_600, 1])
    }

    /// Every table's rows, by column name, in key order.
    func contents(_ db: any Database) throws -> [String: [[String: SQLValue]]] {
        var all: [String: [[String: SQLValue]]] = [:]
        for table in Schema.tables {
            all[table.name] = try db.query("SELECT * FROM \(table.name) ORDER BY \(table.key.joined(separator: ", "))").map { row in
                Dictionary(uniqueKeysWithValues: zip(row.columns.names, row.values))
            }
        }
        return all
    }

    func testCopiesEveryRowAndASecondRunCopiesNothing() throws {
        var heard: [String] = []
        let first = try DataCopy(from: source, to: target, batchSize: 2).run { heard.append($0.table) }
        XCTAssertEqual(heard, Schema.tables.map(\.name))
        XCTAssertEqual(first.map(\.table), Schema.tables.map(\.name))
        for count in first {
            XCTAssertTrue(count.matches, "\(count)")
            XCTAssertEqual(Int64(count.copied), count.source, count.table)
            XCTAssertGreaterThan(count.source, 0, "the fixture fills \(count.table)")
        }
        XCTAssertEqual(first.first { $0.table == "accounts" }?.source, 5)
        XCTAssertEqual(first.first { $0.table == "idempotency_keys" }?.source, 3)
        let copied = try contents(target)
        XCTAssertEqual(copied, try contents(source))

        let second = try DataCopy(from: source, to: target, batchSize: 2).run()
        XCTAssertEqual(second.map(\.copied), Array(repeating: 0, count: Schema.tables.count))
        XCTAssertTrue(second.allSatisfy(\.matches))
        XCTAssertEqual(try contents(target), copied)
    }

    /// New rows on the target get ids past the copied ones (PostgreSQL's identity sequences were moved).
    func testNewRowsGetIdsPastTheCopiedOnes() throws {
        try DataCopy(from: source, to: target).run()
        let account = try AccountService(db: target, clock: .fixed(5_000)).create(.init(name: "New")).0
        XCTAssertEqual(account.id, 6)
        let job = try target.insert("INSERT INTO jobs (kind, payload, run_at, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                                    ["fetch", "{}", 1, 1])
        XCTAssertEqual(job, (1 << 40) + 1)
    }

    /// Rows added to the source while the copy runs (after its snapshot) are reported, not hidden.
    func testASourceWrittenDuringTheCopyIsReported() throws {
        let counts = try DataCopy(from: source, to: target).run { count in
            guard count.table == "accounts" else { return }
            try? self.source.execute("INSERT INTO signup_attempts (address, window_start, attempts) VALUES ('10.0.0.1', 1, 1)")
        }
        XCTAssertEqual(counts.filter { !$0.matches }.map(\.table), ["signup_attempts"])
        let changed = try XCTUnwrap(counts.last)
        XCTAssertEqual([changed.source, changed.target, changed.sourceNow], [2, 2, 3])
    }

    /// `Schema.tables` names every table the migrations make, each after the tables it references.
    func testTheTableListFollowsTheMigrations() throws {
        let sql = Schema.migrations.map(\.sql).joined(separator: "\n")
        let made = sql.matches(of: /CREATE TABLE (\w+)/).map { String($0.output.1) }
        XCTAssertEqual(Set(made), Set(Schema.tables.map(\.name)))
        XCTAssertEqual(made.count, Schema.tables.count)
        let order = Dictionary(uniqueKeysWithValues: Schema.tables.enumerated().map { ($0.element.name, $0.offset) })
        // Each `CREATE TABLE t (… REFERENCES u(…) …)` and `ALTER TABLE t ADD COLUMN … REFERENCES u(…)`: u before (or is) t.
        for statement in sql.split(separator: ";") {
            guard let owner = statement.firstMatch(of: /(?:CREATE|ALTER) TABLE (\w+)/)?.output.1 else { continue }
            for reference in statement.matches(of: /REFERENCES (\w+)\(/) {
                let referenced = String(reference.output.1)
                XCTAssertLessThanOrEqual(try XCTUnwrap(order[referenced]), try XCTUnwrap(order[String(owner)]),
                                         "\(owner) references \(referenced)")
            }
        }
    }
}
