import XCTest
import Domain
import Store
import TestSupport

/// The schema's 15 migrations on a real PostgreSQL 15 (tests/support/pgcluster.sh), translated
/// by the driver, and two connections migrating one empty database at once.
final class PostgresSchemaIntegrationTests: PostgresClusterTestCase {
    func testAllMigrationsRun() throws {
        let db = try Databases.open(url: try Self.cluster.freshDatabase("schema_all"))
        XCTAssertEqual(try Schema.migrate(db), Array(1...Schema.migrations.count))
        XCTAssertEqual(try Schema.migrate(db), [])
        XCTAssertEqual(try Migrator.currentVersion(db), Schema.migrations.count)
        XCTAssertEqual(Schema.migrations.count, 15)
        let tables = try db.query("""
            SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name
            """).compactMap { $0.string("table_name") }
        XCTAssertEqual(tables, ["accounts", "batches", "buckets", "credentials", "downloads", "fetches", "idempotency_keys",
                                "items", "jobs", "media_files", "order_items", "orders", "schema_migrations",
                                "signup_attempts", "uploads", "webhook_deliveries"])
        let booleans = try db.query("""
            SELECT table_name || '.' || column_name AS c FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type = 'boolean' ORDER BY 1
            """).compactMap { $0.string("c") }
        XCTAssertEqual(booleans, ["buckets.path_style", "orders.manual"])
    }

    /// Two nodes starting at once on an empty database: the advisory lock lets one migrate, the
    /// other then finds everything applied. Each migration is applied once and neither fails.
    func testConcurrentMigrationsApplyEachOnce() throws {
        let url = try Self.cluster.freshDatabase("schema_race")
        nonisolated(unsafe) var applied: [[Int]] = [[], []]
        nonisolated(unsafe) var errors: [any Error] = []
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do {
                let versions = try Schema.migrate(Databases.open(url: url))
                lock.withLock { applied[i] = versions }
            } catch {
                lock.withLock { errors.append(error) }
            }
        }
        XCTAssertTrue(errors.isEmpty, "\(errors)")
        XCTAssertEqual((applied[0] + applied[1]).sorted(), Array(1...15))
        XCTAssertTrue(applied[0].isEmpty || applied[1].isEmpty, "\(applied)")
        XCTAssertEqual(try Databases.open(url: url).queryOne("SELECT COUNT(*) AS n FROM schema_migrations")?.int("n"), 15)
    }
}
