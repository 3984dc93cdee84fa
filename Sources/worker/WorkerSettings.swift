import Domain
import Media
import Outbound
import Support

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
    /// Nudges from the dialects (`--wake-socket`): a new job is claimed at once, not at the next poll.
    var wakeup: Wakeup? = nil
    let mail: MailSettings
    /// Where stored files are, and the local scratch space downloads land in first.
    let storage: any FileStore
    let scratch: ScratchSpace
    let fetcher: HTTPFetcher
    let prober: Prober
    /// Multiplies the webhook retry schedule (`--webhook-retry-scale`; tests run it faster).
    let webhookRetryScale: Double
    let media: MediaSettings
    /// Opens the bucket secrets accounts saved (`--master-key-file`); nil: no master key given,
    /// and a fetch of an account with a bucket fails `storage_failed`.
    var sealer: (any SecretSealer)? = nil
}

/// How media fetches run (`media.fetch`).
struct MediaSettings: Sendable {
    let ytdlp: YTDLP
    /// Size (`--max-fetch-bytes`, shared with URL imports), duration (`--max-fetch-duration`) and
    /// wall-clock (`--fetch-timeout`) limits of one fetch.
    let limits: MediaLimits
    /// The media server's public base URL, for the links in webhook bodies.
    let publicURL: String
    /// Media fetches one account may run at once (`--fetch-cap`, default 4); the rest wait queued.
    let fetchCap: Int
    /// Finished fetches older than this are deleted with their files (`--retention-days`); nil: kept.
    let retentionDays: Int?
}
