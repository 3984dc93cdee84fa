import Dialect
import Domain
import FetchViews
import HTTPCore
import MediaService

/// `/jobs`: create, bulk, list, show, cancel, retry, the file (download, delete); `/metadata`; `/usage`.
enum JobEndpoints {
    static func register(_ r: inout Routes<JobsApp>) {
        r.post("/jobs", JobsApp.refusing(create))
        r.get("/jobs", list)
        r.post("/jobs/bulk", JobsApp.refusing(bulk))
        // Ids are UUIDs: any other segment is no job (404 before credentials).
        r.get("/jobs/:id(uuid)", show)
        r.delete("/jobs/:id(uuid)", JobsApp.refusing(cancel))
        r.post("/jobs/:id(uuid)/retry", JobsApp.refusing(retry))
        r.delete("/jobs/:id(uuid)/file", deleteFile)
        r.get("/jobs/:id(uuid)/file/:filename", download)
        // Not read-only: the metadata call (seconds, outside) holds no read snapshot.
        r.add(["GET", "HEAD", "POST"], "/metadata", metadata)
        r.get("/usage", usage)
    }

    /// `{url, quality?, max_resolution?, format?, audio_only?, start_time?, end_time?, subtitles?,
    /// subtitle_mode?, filename?, webhook_url?, paused?}` → 201 the job (a paused one is the one
    /// job of a new paused batch); 429 at the cap.
    static let create: JobsEndpoint = Idempotency.create { call in
        let url = try JobInput.url(call.params["url"]?.string ?? "", field: "url", policy: call.app.policy)
        let input = try JobInput.read(call.params, policy: call.app.policy)
        let fetch = try call.app.jobs.create(accountID: call.accountID, url: url, quality: input.quality, options: input.options,
                                             webhookURL: input.webhookURL, paused: input.paused)
        return call.app.reply(fetch, status: 201)
    }

    /// `{urls: [...], options…}` (1 to 100 URLs) or `{playlist_url, limit?=100, options…}` (a
    /// paused batch of the playlist's entries, each titled as its filename) → 201 `{batch_id,
    /// status, job_ids}`; all or nothing (more than 100 URLs, one URL refused, or the cap: nothing made).
    static let bulk: JobsEndpoint = Idempotency.create { call in
        let input = try JobInput.read(call.params, policy: call.app.policy)
        var entries: [BulkEntry]
        var paused = input.paused
        if let playlist = call.params["playlist_url"]?.string {
            let url = try JobInput.url(playlist, field: "playlist_url", policy: call.app.policy)
            let limit = try playlistLimit(call.params)
            guard let source = call.app.playlists else {
                throw Failure(status: 503, code: "unavailable", message: "Playlist expansion is not available on this server")
            }
            switch source.entries(url: url, limit: limit) {
            case .success(let found):
                entries = try found.prefix(limit).enumerated().map { index, entry in
                    BulkEntry(url: try JobInput.url(entry.url, field: "playlist entry \(index + 1)", policy: call.app.policy),
                              filename: entry.title.map { FetchService.filename(title: $0, ext: "") })
                }
            case .failure(let failure):
                throw failure
            }
            paused = true
        } else {
            guard case .array(let urls)? = call.params["urls"] else { throw Failure.badRequest("urls (a list of URLs) or playlist_url is required") }
            guard urls.count <= JobService.maxBulkURLs else {
                throw Failure.badRequest("urls takes at most \(JobService.maxBulkURLs) URLs, got \(urls.count)")
            }
            entries = try urls.enumerated().map { index, item in
                BulkEntry(url: try JobInput.url(item.string ?? "", field: "urls[\(index)]", policy: call.app.policy))
            }
        }
        let made = try call.app.jobs.bulk(accountID: call.accountID, entries: entries, quality: input.quality, options: input.options,
                                          webhookURL: input.webhookURL, paused: paused)
        return JSONWire.reply(status: 201, capacity: 256 + 48 * made.jobs.count) { w in
            w.beginObject()
            w.member("batch_id", made.batch.id)
            w.member("status", made.batch.state.rawValue)
            w.key("job_ids")
            w.beginArray()
            for job in made.jobs { w.string(job.id) }
            w.endArray()
            w.endObject()
        }
    }

    static func playlistLimit(_ params: Params) throws -> Int {
        guard let text = try JobInput.string(params, "limit") else { return JobService.maxBulkURLs }
        guard let limit = Int(text), (1...JobService.maxBulkURLs).contains(limit) else {
            throw Failure.badRequest("limit must be a whole number from 1 to \(JobService.maxBulkURLs)")
        }
        return limit
    }

    static let statuses = Fetch.JobStatus.allCases.map(\.rawValue).joined(separator: ", ")

    /// Newest first; `?status=` one of the five, `?batch_id=`, `?per_page=` (25, at most 1000),
    /// `?after=<next_cursor>` → `{"jobs": [...], "per_page", "has_more", "next_cursor"}`. Keyset
    /// pages only (no total, no offset): a page costs the same at 1 K and at 1 M jobs.
    static let list: JobsEndpoint = { call in
        var status: Fetch.JobStatus?
        if let wanted = call.params["status"]?.string, !wanted.isEmpty {
            guard let known = Fetch.JobStatus.allCases.first(where: { $0.rawValue.lowercased() == wanted.lowercased() }) else {
                throw Failure.badRequest("status must be one of: \(statuses)")
            }
            status = known
        }
        let batchID = call.params["batch_id"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        if let batchID, batchID.utf8.count > 64 { throw Failure.badRequest("batch_id is not a batch id") }
        let pagination = Pagination(call.params, maxPerPage: Pagination.maxJSONPerPage)
        let page = try call.app.jobs.list(accountID: call.accountID, status: status, batchID: batchID, limit: pagination.perPage,
                                          after: pagination.after)
        return JSONWire.reply(capacity: 256 + 640 * page.jobs.count) { w in
            w.beginObject()
            w.key("jobs")
            w.beginArray()
            for job in page.jobs { JobViews.job(job, downloadBase: call.app.host.publicURL, s3URL: call.app.s3URL(job), into: &w) }
            w.endArray()
            w.member("per_page", pagination.perPage)
            w.member("has_more", page.hasMore)
            w.member("next_cursor", page.nextCursor)
            w.endObject()
        }
    }

    static let show: JobsEndpoint = { call in
        call.app.reply(try call.app.jobs.get(accountID: call.accountID, id: call.capture("id")))
    }

    /// A Pending or Processing job is cancelled (200, the job: `Cancelled`); else 409.
    static let cancel: JobsEndpoint = { call in
        call.app.reply(try call.app.context.db.write {
            let fetch = try call.app.jobs.cancel(accountID: call.accountID, id: call.capture("id"))
            // Cancelling the last unfinished job of a started batch completes it.
            if let batchID = fetch.batchID { try call.app.webhooks.announce(batchID: batchID) }
            return fetch
        })
    }

    /// A Failed or Cancelled job again as a new job (201, the new job); else 409; 429 at the cap.
    static let retry: JobsEndpoint = { call in
        call.app.reply(try call.app.jobs.retry(accountID: call.accountID, id: call.capture("id")), status: 201)
    }

    /// The job's file is deleted (in the account's bucket, or here), the job kept (200, the job: `file` null).
    static let deleteFile: JobsEndpoint = { call in
        let id = call.capture("id")
        let fetch = try call.app.jobs.get(accountID: call.accountID, id: id)
        if let key = fetch.objectKey {
            // The object goes first: were the bucket to refuse, the job still names it.
            guard let buckets = call.app.buckets, try buckets.deleteObject(accountID: call.accountID, objectKey: key) else {
                throw Failure(status: 409, code: "conflict", message: "Job \(id)'s file is in a bucket this account no longer has")
            }
            try FetchService(db: call.app.context.db, storage: call.app.host.storage).clearUpload(publicID: id)
            return call.app.reply(try call.app.jobs.get(accountID: call.accountID, id: id))
        }
        return call.app.reply(try call.app.jobs.deleteFile(accountID: call.accountID, id: id))
    }

    /// 302 to a short-lived signed link served by nginx; 409 `not_ready` unless the file is stored here.
    static let download: JobsEndpoint = { call in
        try FetchDownload.redirect(try call.app.jobs.get(accountID: call.accountID, id: call.capture("id")), host: call.app.host,
                                   params: call.params) { fetch in
            Failure(status: 409, code: "not_ready", message: "Job \(fetch.id) is \(fetch.jobStatus.rawValue) and has no file here")
        }
    }

    /// `{url}` (or `?url=`): the fetch dialect's metadata, from the same source (504 at its time limit).
    static let metadata: JobsEndpoint = { call in
        try MetadataEndpoint.answer(call.params, policy: call.app.policy, source: call.app.metadata)
    }

    /// `{"jobs": {Pending, Processing, Completed, Failed, Cancelled, total}, "active_jobs",
    /// "bytes_stored": {local, bucket, total}, "limits": {active_jobs, bulk_urls}}`.
    static let usage: JobsEndpoint = { call in
        let usage = try call.app.jobs.usage(accountID: call.accountID)
        let bucket = usage.bucketBytes
        return JSONWire.reply { w in
            w.beginObject()
            w.key("jobs")
            w.beginObject()
            for status in Fetch.JobStatus.allCases {
                w.key(status.rawValue)
                w.int(usage.counts[status, default: 0])
            }
            w.member("total", usage.counts.values.reduce(0, +))
            w.endObject()
            w.member("active_jobs", usage.active)
            w.key("bytes_stored")
            w.beginObject()
            w.member("local", usage.bytesStored)
            w.member("bucket", bucket)
            w.member("total", usage.bytesStored + bucket)
            w.endObject()
            w.key("limits")
            w.beginObject()
            w.member("active_jobs", usage.cap)
            w.member("bulk_urls", JobService.maxBulkURLs)
            w.endObject()
            w.endObject()
        }
    }
}
