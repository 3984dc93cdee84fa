#if canImport(Glibc)
import Glibc
#endif

/// Opens the store a URL names, so that no caller names an engine: `sqlite:PATH` (a relative
/// PATH is taken from the working directory, and missing parent directories are made) and
/// `postgresql://user:pass@host:port/db?…` (libpq's URI, given to it as it is, plus this
/// driver's `statement_timeout` parameter).
public enum Databases {
    /// One connection to the database at `url`.
    public static func open(url: String) throws -> any Database {
        if isPostgres(url) { return try PostgresDatabase(url: url) }
        guard let path = sqlitePath(url) else {
            throw DatabaseUsageError(message: "unsupported database URL '\(url)': expected sqlite:PATH or postgresql://…")
        }
        try makeParentDirectories(of: path)
        return try SQLiteDatabase(path: path)
    }

    /// The URL of a database given as `--database-url URL`, or as `--database PATH` (an SQLite file).
    public static func url(given url: String?, path: String?) -> String? {
        url ?? path.map(Databases.url(path:))
    }

    /// The URL of the SQLite file at `path`.
    public static func url(path: String) -> String { "sqlite:" + path }

    /// Whether `url` names a PostgreSQL server: `postgresql://…` (libpq's URI; its shorter
    /// `postgres://` spelling is refused, so that one form names the engine everywhere).
    public static func isPostgres(_ url: String) -> Bool { url.hasPrefix("postgresql://") }

    /// `url` fit for a message or a log: a password in it (`user:PASSWORD@host`, `password=…` in
    /// the query) shown as `***`. (Better still, keep it out of the URL: libpq reads `passfile=` or PGPASSFILE.)
    public static func redacted(_ url: String) -> String {
        var text = url
        if let colonSlashes = text.indices.first(where: { text[$0...].hasPrefix("://") }) {
            let start = text.index(colonSlashes, offsetBy: 3)
            let authorityEnd = text[start...].firstIndex(where: { "/?#".contains($0) }) ?? text.endIndex
            if let at = text[start..<authorityEnd].lastIndex(of: "@"),
               let colon = text[start..<at].firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        guard let query = text.firstIndex(of: "?") else { return text }
        let fields = text[text.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { field in
            field.lowercased().hasPrefix("password=") ? "password=***" : String(field)
        }
        return String(text[...query]) + fields.joined(separator: "&")
    }

    /// PATH of `sqlite:PATH` (or `sqlite://PATH`, where an absolute PATH keeps its slash); nil for other URLs.
    static func sqlitePath(_ url: String) -> String? {
        guard url.hasPrefix("sqlite:") else { return nil }
        var path = String(url.dropFirst("sqlite:".count))
        if path.hasPrefix("//") { path.removeFirst(2) }
        return path.isEmpty ? nil : path
    }

    private static func makeParentDirectories(of path: String) throws {
        var directory = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/").dropLast() {
            directory += "/" + component
            if mkdir(directory, 0o750) != 0 && errno != EEXIST {
                throw DatabaseUsageError(message: "cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// A database asked for something it cannot do: a URL that names no engine this build has (or
/// a place it cannot use), a statement that does not return what its caller needs.
public struct DatabaseUsageError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
