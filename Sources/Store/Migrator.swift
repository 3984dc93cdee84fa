/// Applies numbered schema migrations once each, in order, recording them in
/// `schema_migrations`. Each migration runs in its own transaction.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(_ version: Int, _ name: String, _ sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

public enum Migrator {
    /// Returns the versions applied by this call.
    @discardableResult
    public static func migrate(_ db: any Database, _ migrations: [Migration], now: Int64) throws -> [Int] {
        try db.withMigrationLock {
            try db.executeScript(db.schemaSQL("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
                """))
            var applied: [Int] = []
            for migration in migrations.sorted(by: { $0.version < $1.version }) {
                let done = try db.transaction(immediate: true) { () -> Bool in
                    // Checked inside the write lock so two processes starting together apply it once.
                    if try db.queryOne("SELECT 1 FROM schema_migrations WHERE version = ?", [migration.version]) != nil { return false }
                    try db.executeScript(db.schemaSQL(migration.sql))
                    try db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                   [migration.version, migration.name, now])
                    return true
                }
                if done { applied.append(migration.version) }
            }
            return applied
        }
    }

    public static func currentVersion(_ db: any Database) throws -> Int {
        Int(try db.queryOne("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")?.int("v") ?? 0)
    }
}
