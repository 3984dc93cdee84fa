import Store

/// Retry-safe creates. A client sends a key with a create; the first create that commits
/// stores its result under (account, scope, key) in the same transaction as the rows it made,
/// and for the next 24 hours the same key with the same request gets that result back instead
/// of a second create. The same key with a different request is refused.
///
/// The store is free of any dialect: a scope is a string the caller chooses (a method and
/// a path), a fingerprint is a digest of the request, and a result is a status, opaque header
/// text and body bytes.
public struct IdempotencyService {
    /// How long a key is remembered, in seconds.
    public static let defaultWindow: Int64 = 24 * 3600
    /// Longest key accepted, in bytes.
    public static let maxKeyBytes = 255

    let db: any Database
    let clock: Clock
    let window: Int64

    public init(db: any Database, clock: Clock = .system, window: Int64 = IdempotencyService.defaultWindow) {
        self.db = db
        self.clock = clock
        self.window = window
    }

    /// One keyed create: whose, which operation, the key, and a digest of the request.
    public struct Attempt: Equatable, Sendable {
        public var accountID: Int64
        public var scope: String
        public var key: String
        public var fingerprint: String

        public init(accountID: Int64, scope: String, key: String, fingerprint: String) {
            self.accountID = accountID
            self.scope = scope
            self.key = key
            self.fingerprint = fingerprint
        }
    }

    /// What the first create answered.
    public struct Result: Equatable, Sendable {
        public var status: Int
        public var headers: String
        public var body: [UInt8]

        public init(status: Int, headers: String, body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public enum Outcome<T> {
        /// The create ran now (and its result is stored, if `keep` gave one).
        case created(T)
        /// The key was used before with the same request: its first result.
        case replayed(Result)
    }

    /// A key that is not 1…255 bytes of printable ASCII.
    public static func isValid(key: String) -> Bool {
        let bytes = key.utf8
        return !bytes.isEmpty && bytes.count <= maxKeyBytes && bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7e }
    }

    /// Runs `create` at most once per key. A stored result for the key (younger than the
    /// window) is returned instead of running it; a stored result for a different request is
    /// refused with `IdempotencyError.reused`.
    ///
    /// `create`'s writes and the stored result commit together: the first write transaction
    /// `create` opens stays open until `keep` has turned its result into the stored one. Before
    /// that first write the key is looked up again under the write lock, so of two concurrent
    /// requests with one key only one creates; the other's writes are refused and it gets the
    /// replay. `keep` returns nil for a result that is not stored (a failure): nothing is kept,
    /// and a retry runs again. A thrown error rolls everything back and stores nothing.
    public func run<T>(_ attempt: Attempt, keep: (T) -> Result?, _ create: () throws -> T) throws -> Outcome<T> {
        guard IdempotencyService.isValid(key: attempt.key) else { throw IdempotencyError.invalidKey }
        if let stored = try find(attempt) { return .replayed(stored) }
        do {
            let value = try db.holdingWrite(begin: {
                if let stored = try find(attempt) { throw Replay(result: stored) }
            }, create, end: { value in
                if let result = keep(value) { try record(attempt, result) }
            })
            return .created(value)
        } catch let replay as Replay {
            return .replayed(replay.result)
        }
    }

    /// The stored result for the attempt's key, if one is younger than the window.
    public func find(_ attempt: Attempt) throws -> Result? {
        guard let row = try db.queryOne("""
            SELECT fingerprint, status, headers, body FROM idempotency_keys
            WHERE account_id = ? AND scope = ? AND idempotency_key = ? AND created_at > ?
            """, [attempt.accountID, attempt.scope, attempt.key, clock.now() - window]) else { return nil }
        guard row.string("fingerprint") == attempt.fingerprint else { throw IdempotencyError.reused }
        var body: [UInt8] = []
        if case .blob(let bytes) = row["body"] { body = bytes }
        return Result(status: Int(row.int("status") ?? 0), headers: row.string("headers") ?? "", body: body)
    }

    /// Stores a result and prunes every entry older than the window (an index range; in steady
    /// state the few that expired since the last create). Joins the caller's transaction.
    func record(_ attempt: Attempt, _ result: Result) throws {
        try db.execute("DELETE FROM idempotency_keys WHERE created_at <= ?", [clock.now() - window])
        try db.execute("""
            INSERT INTO idempotency_keys (account_id, scope, idempotency_key, fingerprint, status, headers, body, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [attempt.accountID, attempt.scope, attempt.key, attempt.fingerprint, Int64(result.status),
                  result.headers, result.body.isEmpty ? SQLValue.null : SQLValue.blob(result.body), clock.now()])
    }

    private struct Replay: Error {
        let result: Result
    }
}

/// Why a keyed create is refused.
public enum IdempotencyError: Error, Equatable, Sendable {
    /// The key is empty, longer than 255 bytes, or not printable ASCII.
    case invalidKey
    /// The key was already used, within the window, for a different request.
    case reused

    public var message: String {
        switch self {
        case .invalidKey:
            return "Idempotency-Key must be 1 to \(IdempotencyService.maxKeyBytes) printable ASCII characters"
        case .reused:
            return "Idempotency-Key was already used with a different request; send a new key for a new request"
        }
    }
}
