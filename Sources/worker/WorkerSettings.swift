import Domain
import Media
import Outbound

/// How order emails leave: SMTP, or `.eml` files in an outbox directory (the default).
struct MailSettings: Sendable {
    enum Transport: Sendable {
        case smtp(SMTPSettings)
        case outbox(MailOutbox)
    }
    let transport: Transport
    let from: String
    let fromName: String
}

struct WorkerSettings: Sendable {
    /// Where the store is: a URL for `Databases.open`.
    let databaseURL: String
    let leaseSeconds: Int64
    let pollMilliseconds: Int
    let mail: MailSettings
    /// Where stored files are, and the local scratch space downloads land in first.
    let storage: any FileStore
    let scratch: ScratchSpace
    let fetcher: HTTPFetcher
    let prober: Prober
    /// Multiplies the webhook retry schedule (`--webhook-retry-scale`; tests run it faster).
    let webhookRetryScale: Double
    /// Media fetches one account may run at once (`--fetch-cap`, default 4); the rest wait queued.
    var fetchCap = 4
}
