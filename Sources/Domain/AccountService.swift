import Crypto
import Store

/// Accounts and their credential pairs. Tokens are stored as SHA-256 digests only.
public struct AccountService {
    let db: any Database
    let clock: Clock

    public init(db: any Database, clock: Clock = .system) {
        self.db = db
        self.clock = clock
    }

    public struct NewAccount: Sendable {
        public var name: String
        public var email: String = ""
        public var url: String = ""
        public var orderExpirationInHours: Int64 = 240
        public var downloadLimitPerItem: Int64 = 3
        public init(name: String, email: String = "") {
            self.name = name
            self.email = email
        }
    }

    /// Creates an account with its first credential pair; returns the account and the clear token
    /// (the only time it is ever seen).
    public func create(_ new: NewAccount, apiKey: String? = nil, token: String? = nil) throws -> (Account, apiKey: String, token: String) {
        guard !new.name.isEmpty else { throw DomainError.invalid("name is required") }
        try FieldRules.text(new.name, field: "name", maxBytes: FieldRules.maxAccountNameBytes)
        try AccountService.validate(hours: new.orderExpirationInHours, limit: new.downloadLimitPerItem, email: new.email, url: new.url)
        return try db.write {
            let id = try db.insert("""
                INSERT INTO accounts (name, email, url, order_expiration_in_hours, download_limit_per_item, created_at)
                VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                """, [new.name, new.email, new.url, new.orderExpirationInHours, new.downloadLimitPerItem, clock.now()])
            let (key, secret) = try addCredential(accountID: id, apiKey: apiKey, token: token, label: "initial")
            return (try account(id: id)!, key, secret)
        }
    }

    public func account(id: Int64) throws -> Account? {
        try db.queryOne("SELECT * FROM accounts WHERE id = ?", [id]).map(Account.init(row:))
    }

    public func account(apiKey: String) throws -> Account? {
        try db.queryOne("""
            SELECT a.* FROM accounts a JOIN credentials c ON c.account_id = a.id
            WHERE c.api_key = ? AND c.revoked_at IS NULL
            """, [apiKey]).map(Account.init(row:))
    }

    /// The account of an API key that is not revoked, acting without its token: for a dialect
    /// the operator configured to serve key-less requests as that account.
    public func principal(apiKey: String) throws -> Principal? {
        try db.queryOne("""
            SELECT c.id AS credential_id, c.api_key, a.* FROM credentials c
            JOIN accounts a ON a.id = c.account_id WHERE c.api_key = ? AND c.revoked_at IS NULL
            """, [apiKey]).map { Principal(account: Account(row: $0), credentialID: $0.int("credential_id") ?? 0, apiKey: apiKey, token: "") }
    }

    public func list() throws -> [Account] {
        try db.query("SELECT * FROM accounts ORDER BY id").map(Account.init(row:))
    }

    /// Adds a key/token pair. Keys are public identifiers; tokens are secrets.
    @discardableResult
    public func addCredential(accountID: Int64, apiKey: String? = nil, token: String? = nil, label: String = "") throws -> (apiKey: String, token: String) {
        let key = apiKey ?? Digest.randomToken(length: 12)
        let secret = token ?? Digest.randomToken(length: 32)
        guard !key.isEmpty, !key.contains(":"), !secret.isEmpty else {
            throw DomainError.invalid("api key must be non-empty without ':' and token non-empty")
        }
        do {
            try db.write {
                guard try account(id: accountID) != nil else { throw DomainError.notFound("account \(accountID) not found") }
                try db.execute("""
                    INSERT INTO credentials (account_id, api_key, token_hash, label, created_at) VALUES (?, ?, ?, ?, ?)
                    """, [accountID, key, SQLValue.blob(Digest.sha256(Array(secret.utf8))), label, clock.now()])
            }
        } catch let error as any DatabaseError where error.isConstraintViolation {
            throw DomainError.unprocessable("api key \(key) is already taken")
        }
        return (key, secret)
    }

    public func credentials(accountID: Int64) throws -> [CredentialInfo] {
        try db.query("SELECT * FROM credentials WHERE account_id = ? ORDER BY id", [accountID]).map {
            CredentialInfo(id: $0.int("id") ?? 0, apiKey: $0.string("api_key") ?? "", label: $0.string("label") ?? "",
                           createdAt: $0.int("created_at") ?? 0, revokedAt: $0.int("revoked_at"))
        }
    }

    /// Revokes a key at once; returns false if it did not exist or was already revoked.
    @discardableResult
    public func revoke(apiKey: String) throws -> Bool {
        try db.write {
            try db.execute("UPDATE credentials SET revoked_at = ? WHERE api_key = ? AND revoked_at IS NULL",
                           [clock.now(), apiKey]) == 1
        }
    }

    /// Checks a key/token pair, or a token alone (the JSON dialects' `X-API-KEY`).
    public func authenticate(apiKey: String?, token: String) throws -> Principal? {
        let digest = Digest.sha256(Array(token.utf8))
        let row: Row?
        if let apiKey {
            row = try db.queryOne("""
                SELECT c.id AS credential_id, c.api_key, c.token_hash, a.* FROM credentials c
                JOIN accounts a ON a.id = c.account_id WHERE c.api_key = ? AND c.revoked_at IS NULL
                """, [apiKey])
        } else {
            // Looked up by digest: the secret itself never reaches an index comparison.
            row = try db.queryOne("""
                SELECT c.id AS credential_id, c.api_key, c.token_hash, a.* FROM credentials c
                JOIN accounts a ON a.id = c.account_id WHERE c.token_hash = ? AND c.revoked_at IS NULL
                """, [SQLValue.blob(digest)])
        }
        guard let row, case .blob(let stored) = row["token_hash"],
              Digest.constantTimeEqual(stored, digest) else { return nil }
        return Principal(account: Account(row: row), credentialID: row.int("credential_id") ?? 0,
                         apiKey: row.string("api_key") ?? "", token: token)
    }

    /// Replaces the token of one credential pair; the old token stops working at once.
    public func rotateToken(credentialID: Int64) throws -> String {
        let secret = Digest.randomToken(length: 32)
        let changed = try db.write {
            try db.execute("UPDATE credentials SET token_hash = ? WHERE id = ? AND revoked_at IS NULL",
                           [SQLValue.blob(Digest.sha256(Array(secret.utf8))), credentialID])
        }
        guard changed == 1 else { throw DomainError.notFound("credential not found") }
        return secret
    }

    /// Replaces the token of one credential pair only while it is still `currentToken` (the one the
    /// caller authenticated with); nil when another rotation got there first, so of concurrent
    /// rotations presenting the same token exactly one succeeds, and no caller is handed a token
    /// that a later rotation had already replaced.
    public func rotateToken(credentialID: Int64, replacing currentToken: String) throws -> String? {
        let secret = Digest.randomToken(length: 32)
        let changed = try db.write {
            try db.execute("UPDATE credentials SET token_hash = ? WHERE id = ? AND token_hash = ? AND revoked_at IS NULL",
                           [SQLValue.blob(Digest.sha256(Array(secret.utf8))), credentialID,
                            SQLValue.blob(Digest.sha256(Array(currentToken.utf8)))])
        }
        return changed == 1 ? secret : nil
    }

    /// Changes account settings (admin CLI).
    public func update(accountID: Int64, orderExpirationInHours: Int64? = nil, downloadLimitPerItem: Int64? = nil,
                       email: String? = nil, url: String? = nil) throws {
        try AccountService.validate(hours: orderExpirationInHours, limit: downloadLimitPerItem, email: email, url: url)
        try db.write {
            guard try account(id: accountID) != nil else { throw DomainError.notFound("account \(accountID) not found") }
            try db.execute("""
                UPDATE accounts SET
                  order_expiration_in_hours = COALESCE(?, order_expiration_in_hours),
                  download_limit_per_item = COALESCE(?, download_limit_per_item),
                  email = COALESCE(?, email), url = COALESCE(?, url)
                WHERE id = ?
                """, [orderExpirationInHours, downloadLimitPerItem, email, url, accountID])
        }
    }

    /// The account settings' rules, the same for create and update.
    static func validate(hours: Int64?, limit: Int64?, email: String?, url: String?) throws {
        try FieldRules.number(hours, field: "order_expiration_in_hours", in: FieldRules.expirationHours)
        try FieldRules.number(limit, field: "download_limit_per_item", in: FieldRules.downloadCount)
        try FieldRules.text(email, field: "email", maxBytes: FieldRules.maxEmailBytes)
        try FieldRules.text(url, field: "url", maxBytes: FieldRules.maxURLBytes)
    }
}
