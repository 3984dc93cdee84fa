import Crypto
import Store

/// Webhooks of an account: its signing secret, the messages queued for delivery, and the log
/// of every delivery attempt. Writes join the caller's transaction when there is one.
public struct WebhookService {
    let db: any Database
    let clock: Clock

    public init(db: any Database, clock: Clock = .system) {
        self.db = db
        self.clock = clock
    }

    /// The account's secret, made on first use.
    public func secret(accountID: Int64) throws -> String {
        if let secret = try stored(accountID: accountID) { return secret }
        return try db.write {
            // Another process may have made it since the read above.
            if let secret = try stored(accountID: accountID) { return secret }
            return try replace(accountID: accountID)
        }
    }

    /// Replaces the account's secret with a new one: attempts from now on are signed with it.
    public func rotate(accountID: Int64) throws -> String {
        try db.write { try replace(accountID: accountID) }
    }

    /// Queues a message for delivery (its first attempt goes at once), under a new message id.
    @discardableResult
    public func enqueue(accountID: Int64, subjectID: String, url: String, body: String) throws -> WebhookMessage {
        let message = WebhookMessage(accountID: accountID, subjectID: subjectID, messageID: "msg_" + Digest.randomToken(length: 24),
                                     url: url, body: body)
        try JobQueue(db: db, clock: clock).enqueue(WebhookJob.self, message, accountID: accountID,
                                                   maxAttempts: Int64(WebhookSchedule.attempts))
        return message
    }

    /// Logs one attempt of `message`.
    @discardableResult
    public func record(_ message: WebhookMessage, attempt: Int64, attemptedAt: Int64, status: Int?, durationMs: Int64?,
                       error: String?) throws -> WebhookDelivery {
        let id = try db.write {
            try db.insert("""
                INSERT INTO webhook_deliveries (account_id, subject_id, message_id, url, attempt, attempted_at, status, duration_ms, error)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """, [message.accountID, message.subjectID, message.messageID, message.url, attempt, attemptedAt,
                      status.map(Int64.init), durationMs, error])
        }
        return WebhookDelivery(id: id, accountID: message.accountID, subjectID: message.subjectID, messageID: message.messageID,
                               url: message.url, attempt: attempt, attemptedAt: attemptedAt, status: status,
                               durationMs: durationMs, error: error)
    }

    /// Every attempt about a subject (all its messages), oldest first.
    public func deliveries(subjectID: String) throws -> [WebhookDelivery] {
        try db.query("SELECT \(Self.columns) FROM webhook_deliveries WHERE subject_id = ? ORDER BY id", [subjectID])
            .map(WebhookDelivery.init(row:))
    }

    /// Every attempt of the account's webhooks, newest first, one page (`page.after`: a keyset
    /// cursor, a previous page's `nextCursor`).
    public func deliveries(accountID: Int64, page: Page) throws -> Listing<WebhookDelivery> {
        try .newestFirst(db, columns: Self.columns, from: "webhook_deliveries", where: "account_id = ?", [accountID], page: page,
                         items: { $0.map(WebhookDelivery.init(row:)) }, rowID: \.id) {
            try db.queryOne("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE account_id = ?", [accountID])?.int("n") ?? 0
        }
    }

    static let columns = "id, account_id, subject_id, message_id, url, attempt, attempted_at, status, duration_ms, error"

    private func stored(accountID: Int64) throws -> String? {
        guard let row = try db.queryOne("SELECT webhook_secret FROM accounts WHERE id = ?", [accountID]) else {
            throw DomainError.notFound("no account \(accountID)")
        }
        return row.string("webhook_secret")
    }

    private func replace(accountID: Int64) throws -> String {
        let secret = WebhookSignature.newSecret()
        guard try db.execute("UPDATE accounts SET webhook_secret = ? WHERE id = ?", [secret, accountID]) == 1 else {
            throw DomainError.notFound("no account \(accountID)")
        }
        return secret
    }
}

extension WebhookDelivery {
    init(row: Row) {
        self.init(id: row.int("id") ?? 0, accountID: row.int("account_id") ?? 0, subjectID: row.string("subject_id") ?? "",
                  messageID: row.string("message_id") ?? "", url: row.string("url") ?? "",
                  attempt: row.int("attempt") ?? 0, attemptedAt: row.int("attempted_at") ?? 0,
                  status: row.int("status").map(Int.init), durationMs: row.int("duration_ms"), error: row.string("error"))
    }
}
