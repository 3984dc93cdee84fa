import Crypto

/// One webhook message: what is sent, to where, for which account and subject. Frozen when it
/// is queued (`WebhookService.enqueue`); every attempt sends the same body under the same
/// `webhook-id` (the message id), signed with the account's secret of the attempt's time.
public struct WebhookMessage: Codable, Equatable, Sendable {
    public let accountID: Int64
    /// What the message is about (a fetch's public id): the delivery log is read by it.
    public let subjectID: String
    /// `msg_` + a random token: the `webhook-id` header, the same on every retry.
    public let messageID: String
    public let url: String
    /// The JSON text posted.
    public let body: String

    public init(accountID: Int64, subjectID: String, messageID: String, url: String, body: String) {
        self.accountID = accountID
        self.subjectID = subjectID
        self.messageID = messageID
        self.url = url
        self.body = body
    }

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id", subjectID = "subject_id", messageID = "message_id", url, body
    }
}

/// Deliver one webhook message: one attempt per run of the job, rescheduled on the
/// `WebhookSchedule` by its handler. Its subject is the message id, so cancelling the jobs of
/// a fetch (its public id) never drops a message already queued about it.
public enum WebhookJob: JobKind {
    public typealias Payload = WebhookMessage
    public static let name = "webhook.deliver"
    public static let lane = JobLane.short
    public static func subject(of payload: WebhookMessage) -> String? { payload.messageID }
}

/// One attempt to deliver a message, as the delivery log keeps it.
public struct WebhookDelivery: Equatable, Sendable {
    public let id: Int64
    public let accountID: Int64
    public let subjectID: String
    public let messageID: String
    public let url: String
    /// 1 for the first attempt of the message, then 2, 3 … (a gap: an attempt whose worker died).
    public let attempt: Int64
    public let attemptedAt: Int64
    /// The receiver's HTTP status; nil when none came (refused, unreachable, timed out).
    public let status: Int?
    public let durationMs: Int64?
    /// Why the attempt failed, or that retries stopped; nil on success.
    public let error: String?
}

/// Standard Webhooks signing: `v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`, keyed
/// with the base64-decoded part of the `whsec_` secret.
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"

    /// A new secret: `whsec_` + base64 of 24 random bytes.
    public static func newSecret() -> String { secretPrefix + Base64.encode(Digest.randomBytes(24)) }

    /// The key bytes of a secret; nil when it is not `whsec_` + base64.
    public static func key(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix(secretPrefix), let key = Base64.decode(String(secret.dropFirst(secretPrefix.count))),
              !key.isEmpty else { return nil }
        return key
    }

    /// The `webhook-signature` header's value.
    public static func sign(secret: String, id: String, timestamp: Int64, body: String) throws -> String {
        guard let key = key(of: secret) else { throw DomainError.invalid("a webhook secret is whsec_ followed by base64") }
        let mac = Digest.hmacSHA256(key: key, message: Array("\(id).\(timestamp).\(body)".utf8))
        return "v1," + Base64.encode(mac)
    }
}

/// When the attempts of a message go: now, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
/// after each failed one (the Standard Webhooks practice), each ±10 % so that many failing
/// messages do not retry in step. Eight attempts in all, about 28 hours.
public enum WebhookSchedule {
    /// Seconds before each attempt after the previous one failed; the first goes at once.
    public static let delays: [Double] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    public static var attempts: Int { delays.count }

    /// Seconds from the failure of attempt `attempt` (1-based) to the next one; nil after the
    /// last. `jitter` in -1…1 places it in the ±10 % band; `scale` multiplies the whole
    /// schedule (tests run it a hundred times faster).
    public static func delay(after attempt: Int, scale: Double = 1, jitter: Double = .random(in: -1...1)) -> Double? {
        guard attempt >= 1, attempt < delays.count else { return nil }
        return delays[attempt] * (1 + 0.1 * min(1, max(-1, jitter))) * scale
    }
}
