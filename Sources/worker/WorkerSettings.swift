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
    let storage: FileStorage
    let fetcher: HTTPFetcher
    let prober: Prober
}
