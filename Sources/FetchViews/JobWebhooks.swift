import Domain
import Store

/// Seed 002's webhooks, queued in the caller's transaction (Standard Webhooks, signed and retried
/// as every webhook): `job.completed` / `job.failed` with the job object to the job's
/// `webhook_url`, and `batch.completed` with the batch object to the batch's once its last job
/// is finished. Envelope: `{"type", "timestamp", "data"}`. The worker announces a job it
/// finished; the jobs dialect announces a batch that a cancel or a start completed.
public struct JobWebhooks {
    let db: any Database
    let storage: any FileStore
    /// The media server's public URL, for `download_url`.
    let downloadBase: String
    /// A job's presigned link into its account's bucket, when its file went there.
    let s3URL: (Fetch) -> String?
    let clock: Clock

    public init(db: any Database, storage: any FileStore, downloadBase: String, clock: Clock = .system,
                s3URL: @escaping (Fetch) -> String? = { _ in nil }) {
        self.db = db
        self.storage = storage
        self.downloadBase = downloadBase
        self.s3URL = s3URL
        self.clock = clock
    }

    /// A job finished by its run: its own webhook, then its batch's if that is now complete.
    public func announce(finished fetch: Fetch) throws {
        if let url = fetch.webhookURL {
            let body = JobViews.event(fetch.status == .success ? "job.completed" : "job.failed", timestamp: clock.now()) {
                JobViews.job(fetch, downloadBase: downloadBase, s3URL: s3URL(fetch), into: &$0)
            }
            try WebhookService(db: db, clock: clock).enqueue(accountID: fetch.accountID, subjectID: fetch.id, url: url,
                                                             body: String(decoding: body, as: UTF8.self))
        }
        if let batchID = fetch.batchID { try announce(batchID: batchID) }
    }

    /// `batch.completed` when the batch is started and every job of it finished (the caller
    /// calls this in the transaction that finished its last job, so it is sent once).
    public func announce(batchID: String) throws {
        guard let batch = try JobService(db: db, storage: storage, clock: clock).batchStatus(id: batchID), batch.isComplete,
              let url = batch.batch.webhookURL else { return }
        let body = JobViews.event("batch.completed", timestamp: clock.now(), capacity: 1024 + 640 * batch.jobs.count) {
            JobViews.batch(batch, downloadBase: downloadBase, s3URL: s3URL, into: &$0)
        }
        try WebhookService(db: db, clock: clock).enqueue(accountID: batch.batch.accountID, subjectID: batchID, url: url,
                                                         body: String(decoding: body, as: UTF8.self))
    }
}
