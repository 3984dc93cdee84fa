import Store

/// Copies every row of one store into another, whatever their engines (`fetchgate migrate-data`):
/// brings both to the current schema, then copies `Schema.tables` in that order (each after the
/// tables it references), each table in one target transaction, read from the source in key
/// order in batches, and written with `ON CONFLICT (key) DO NOTHING` so that a second run skips
/// what the first copied. Generated ids are then moved past the largest copied one.
///
/// The source is read in one snapshot, so the copy is consistent even if something writes to it
/// meanwhile; but such writes would be missing from the target (and a later run, which only adds
/// rows whose keys are new, would not carry over changed rows). So the copy recounts the source
/// after its snapshot ends and reports a table that changed: run it with the servers stopped.
public struct DataCopy {
    /// What one table holds on each side after the copy.
    public struct Count: Sendable, Equatable {
        public let table: String
        /// Rows in the source snapshot that was copied.
        public let source: Int64
        /// Rows in the target after the copy.
        public let target: Int64
        /// Rows this run inserted (the rest were there already).
        public let copied: Int
        /// Rows in the source after the copy (differs from `source` when something wrote to it meanwhile).
        public let sourceNow: Int64

        public var matches: Bool { source == target && source == sourceNow }
    }

    let source: any Database
    let target: any Database
    let batchSize: Int

    /// Statements bind at most this many values (SQLite's default ceiling is 32766, PostgreSQL's 65535).
    static let maxArguments = 30_000

    public init(from source: any Database, to target: any Database, batchSize: Int = 1_000) {
        self.source = source
        self.target = target
        self.batchSize = max(1, batchSize)
    }

    /// Copies every table and returns each one's counts, in copy order; `progress` hears each table as it is done.
    public func run(clock: Clock = .system, progress: (Count) -> Void = { _ in }) throws -> [Count] {
        try Schema.migrate(source, clock: clock)
        try Schema.migrate(target, clock: clock)
        var counts: [(table: Schema.Table, source: Int64, copied: Int)] = []
        try source.transaction(immediate: false) {
            for table in Schema.tables {
                let copied = try copy(table)
                counts.append((table, try DataCopy.count(table, in: source), copied))
            }
        }
        return try counts.map { entry in
            let count = Count(table: entry.table.name, source: entry.source, target: try DataCopy.count(entry.table, in: target),
                              copied: entry.copied, sourceNow: try DataCopy.count(entry.table, in: source))
            progress(count)
            return count
        }
    }

    /// Copies one table in one target transaction; returns the rows inserted.
    private func copy(_ table: Schema.Table) throws -> Int {
        let key = table.key.joined(separator: ", ")
        let after = "(" + key + ") > (" + table.key.map { _ in "?" }.joined(separator: ", ") + ")"
        return try target.write {
            var inserted = 0
            var last: [SQLValue]? = nil
            while true {
                let page = try source.query(
                    "SELECT * FROM \(table.name)\(last == nil ? "" : " WHERE " + after) ORDER BY \(key) LIMIT ?",
                    (last ?? []) + [batchSize])
                guard let final = page.last else { break }
                inserted += try insert(page, into: table)
                last = table.key.map { final[$0] }
                if page.count < batchSize { break }
            }
            if table.key == ["id"] { try target.advanceIdentity(table: table.name, column: "id") }
            return inserted
        }
    }

    /// Inserts rows of one result, as few statements as the argument ceiling allows.
    private func insert(_ rows: [Row], into table: Schema.Table) throws -> Int {
        let columns = rows[0].columns.names
        let perStatement = max(1, DataCopy.maxArguments / columns.count)
        let tuple = "(" + columns.map { _ in "?" }.joined(separator: ", ") + ")"
        var inserted = 0
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            let sql = "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: tuple, count: chunk.count).joined(separator: ", ")
                + " ON CONFLICT (\(table.key.joined(separator: ", "))) DO NOTHING"
            inserted += try target.execute(sql, chunk.flatMap(\.values))
            start += chunk.count
        }
        return inserted
    }

    private static func count(_ table: Schema.Table, in db: any Database) throws -> Int64 {
        try db.queryOne("SELECT COUNT(*) AS n FROM \(table.name)")?.int("n") ?? 0
    }
}
