import Domain
import FetchViews

/// A seed-002 job's webhooks, queued in the transaction that finishes it (`MediaFetchHandler.announce`):
/// `job.completed` or `job.failed` with the job object to the job's `webhook_url`, and, when it
/// was the last unfinished job of its batch, `batch.completed` with the batch status object to
/// the batch's. Envelope: `{"type", "timestamp", "data"}`; signed and retried as every webhook.
enum JobAnnouncements {
    static func announce(_ fetch: Fetch, in context: WorkerContext) throws {
        let webhooks = WebhookService(db: context.db)
        let base = context.settings.media.publicURL
        let now = Clock.system.now()
        if let url = fetch.webhookURL {
            let type = fetch.status == .success ? "job.completed" : "job.failed"
            let body = JobViews.event(type, timestamp: now) { JobViews.job(fetch, downloadBase: base, into: &$0) }
            try webhooks.enqueue(accountID: fetch.accountID, subjectID: fetch.id, url: url, body: String(decoding: body, as: UTF8.self))
        }
        guard let batchID = fetch.batchID,
              let batch = try JobService(db: context.db, storage: context.settings.storage).batchStatus(id: batchID),
              batch.isComplete, let url = batch.batch.webhookURL else { return }
        let body = JobViews.event("batch.completed", timestamp: now, capacity: 1024 + 640 * batch.jobs.count) {
            JobViews.batch(batch, downloadBase: base, into: &$0)
        }
        try webhooks.enqueue(accountID: fetch.accountID, subjectID: batchID, url: url, body: String(decoding: body, as: UTF8.self))
    }
}
