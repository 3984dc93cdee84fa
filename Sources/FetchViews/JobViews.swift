import Domain
import HTTPCore

/// Seed 002's shapes (the jobs dialect's replies and the worker's job webhooks): the job
/// object, the batch status object and the webhook envelope. One rendering for both.
public enum JobViews {
    /// `{id, url, status (Pending, Processing, Completed, Failed, Cancelled), step (queued,
    /// downloading, converting, uploading, done; null once failed), progress (0-100), error,
    /// error_type, created_at, updated_at (epoch ms), file {name, size, content_type} | null,
    /// download_url, s3_url, batch_id}`. `download_url` (`<downloadBase>/jobs/<id>/file/<name>`,
    /// which answers 302 to a signed link) is there while the file is stored here and
    /// `downloadBase` is given; `s3_url` is the caller's presigned link into the account's bucket.
    public static func job(_ fetch: Fetch, downloadBase: String?, s3URL: String? = nil, into w: inout JSONWriter) {
        let status = fetch.jobStatus
        w.beginObject()
        w.member("id", fetch.id)
        w.member("url", fetch.url)
        w.member("status", status.rawValue)
        w.member("step", step(fetch))
        w.key("progress")
        w.double(status == .completed ? 100 : min(100, max(0, fetch.progress.percent ?? 0)))
        w.member("error", status == .failed || status == .cancelled ? fetch.errorMessage : nil)
        w.member("error_type", status == .failed || status == .cancelled ? fetch.errorCode : nil)
        w.member("created_at", fetch.createdAt * 1000)
        w.member("updated_at", fetch.updatedAt * 1000)
        w.key("file")
        if status == .completed, let name = fetch.filename, fetch.storageKey != nil || s3URL != nil {
            w.beginObject()
            w.member("name", name)
            w.member("size", fetch.sizeBytes)
            w.member("content_type", fetch.contentType)
            w.endObject()
        } else {
            w.null()
        }
        w.key("download_url")
        FetchViews.link(downloadPath(fetch), base: downloadBase, into: &w)
        w.member("s3_url", s3URL)
        w.member("batch_id", fetch.batchID)
        w.endObject()
    }

    /// The job object as a whole document.
    public static func job(_ fetch: Fetch, downloadBase: String?, s3URL: String? = nil) -> [UInt8] {
        JSONWriter.document(capacity: 768) { job(fetch, downloadBase: downloadBase, s3URL: s3URL, into: &$0) }
    }

    /// The seed's five steps: merging counts as converting, putting the file into the store as uploading.
    static func step(_ fetch: Fetch) -> String? {
        switch fetch.step {
        case nil: nil
        case .queued, .paused: "queued"
        case .downloading: "downloading"
        case .merging, .converting: "converting"
        case .storing: "uploading"
        case .done: "done"
        }
    }

    /// `/jobs/<id>/file/<percent-encoded filename>` for a completed job whose file is stored here; nil otherwise.
    public static func downloadPath(_ fetch: Fetch) -> String? {
        guard fetch.status == .success, fetch.storageKey != nil, let filename = fetch.filename else { return nil }
        return "/jobs/" + fetch.id + "/file/" + PercentEncoding.component(filename)
    }

    /// `{id, status (paused, started, completed), created_at, started_at (epoch ms), total,
    /// counts {Pending, Processing, Completed, Failed, Cancelled}, progress (0-100), jobs: [job…]}`.
    /// `s3URL` gives a job's bucket link (nil: none).
    public static func batch(_ status: BatchStatus, downloadBase: String?, s3URL: (Fetch) -> String? = { _ in nil },
                             into w: inout JSONWriter) {
        w.beginObject()
        w.member("id", status.batch.id)
        w.member("status", status.isComplete ? "completed" : status.batch.state.rawValue)
        w.member("created_at", status.batch.createdAt * 1000)
        w.member("started_at", status.batch.startedAt.map { $0 * 1000 })
        w.member("total", status.jobs.count)
        w.key("counts")
        w.beginObject()
        for jobStatus in Fetch.JobStatus.allCases {
            w.key(jobStatus.rawValue)
            w.int(status.counts[jobStatus, default: 0])
        }
        w.endObject()
        w.key("progress")
        w.double((status.progress * 10).rounded() / 10)
        w.key("jobs")
        w.beginArray()
        for fetch in status.jobs { job(fetch, downloadBase: downloadBase, s3URL: s3URL(fetch), into: &w) }
        w.endArray()
        w.endObject()
    }

    public static func batch(_ status: BatchStatus, downloadBase: String?, s3URL: (Fetch) -> String? = { _ in nil }) -> [UInt8] {
        JSONWriter.document(capacity: 512 + 640 * status.jobs.count) { batch(status, downloadBase: downloadBase, s3URL: s3URL, into: &$0) }
    }

    /// A webhook's body: `{"type": "job.completed" | "job.failed" | "batch.completed",
    /// "timestamp": ISO 8601, "data": <the object data writes>}`.
    public static func event(_ type: String, timestamp: Int64, capacity: Int = 1024, data: (inout JSONWriter) -> Void) -> [UInt8] {
        JSONWriter.document(capacity: capacity) { w in
            w.beginObject()
            w.member("type", type)
            w.member("timestamp", DateTime.format(timestamp))
            w.key("data")
            data(&w)
            w.endObject()
        }
    }
}
