import Domain
import Outbound

/// Delivers a webhook message: one attempt per run of the job. The attempt is logged in the
/// same transaction that completes the job or queues its next attempt (`JobQueue.retry`, on
/// the `WebhookSchedule`), and only while the lease holds: a worker killed between attempts
/// loses no message (the job is queued with its time), and one killed during an attempt logs
/// nothing for it (its lease runs out and the attempt is made again), never one twice.
/// 2xx: delivered. 410: the receiver wants no more, retries stop. Anything else (a 3xx
/// included: redirects are not followed, no answer at all) goes again at the next time of the
/// schedule, until its attempts are used up. The signature is made with the account's secret
/// at the attempt's time; the secret never reaches the log or the job row.
enum WebhookHandler: JobHandler {
    typealias Kind = WebhookJob

    static func run(_ message: WebhookMessage, _ lease: JobLease, in context: WorkerContext) throws {
        let webhooks = WebhookService(db: context.db)
        let secret: String
        do { secret = try webhooks.secret(accountID: message.accountID) } catch DomainError.notFound(_) {
            try context.queue.complete(lease) // the account is gone: nobody to sign for
            return
        }
        let attempt = lease.job.attempts
        let timestamp = Clock.system.now()
        let headers = [("Content-Type", "application/json"), ("webhook-id", message.messageID),
                       ("webhook-timestamp", String(timestamp)),
                       ("webhook-signature", try WebhookSignature.sign(secret: secret, id: message.messageID, timestamp: timestamp,
                                                                       body: message.body))]
        let started = ContinuousClock.now
        var status: Int?
        var problem: String?
        var retry = true
        do {
            status = try context.settings.fetcher.post(url: message.url, headers: headers, body: Array(message.body.utf8),
                                                       shouldStop: { lease.isLost })
        } catch let error as OutboundError {
            problem = error.description
            retry = error.reason != .invalidURL
        }
        try lease.check()
        let elapsed = (ContinuousClock.now - started).components
        let durationMs = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
        func record(_ error: String?) throws {
            try webhooks.record(message, attempt: attempt, attemptedAt: timestamp, status: status, durationMs: durationMs, error: error)
        }
        if let status, (200..<300).contains(status) {
            try context.queue.complete(lease) { try record(nil) }
        } else if status == 410 {
            try context.queue.complete(lease) { try record("the receiver answered 410 Gone: no more attempts") }
        } else {
            let why = problem ?? "the receiver answered HTTP \(status ?? 0)"
            let delay = retry ? WebhookSchedule.delay(after: Int(attempt), scale: context.settings.webhookRetryScale) : nil
            try context.queue.retry(lease, at: delay.map { timestamp + Int64($0.rounded()) }, error: why) { final in
                try record(final ? why + "; no more attempts" : why)
            }
        }
    }
}
