import Dialect
import Domain
import FetchViews
import HTTPCore
import MediaService

/// `/fetch`: create, list, show, cancel or delete, metadata, download (302 to a signed link).
enum FetchEndpoints {
    static func register(_ r: inout Routes<FetchApp>) {
        r.get("/fetch", list)
        r.post("/fetch", create)
        r.get("/fetch/deliveries", allDeliveries)
        // One route for GET and POST, so not read-only: the metadata call (seconds, outside) holds no read snapshot.
        r.add(["GET", "HEAD", "POST"], "/fetch/metadata", metadata)
        // Ids are UUIDs: any other segment is no fetch (404 before credentials).
        r.get("/fetch/:id(uuid)", show)
        r.delete("/fetch/:id(uuid)", delete)
        r.get("/fetch/:id(uuid)/deliveries", deliveries)
        r.get("/fetch/:id(uuid)/:filename", download)
    }

    /// `{url, quality?="best", webhook_url?}` → 201 `{id, url, status: "pending", created_at}`.
    static let create: FetchEndpoint = Idempotency.create { call in
        let input = try read(call)
        let fetch = try call.app.fetches.create(accountID: call.accountID, url: input.url, quality: input.quality,
                                                webhookURL: input.webhookURL, origin: .fetch)
        return JSONWire.reply(status: 201) { w in
            w.beginObject()
            w.member("id", fetch.id)
            w.member("url", fetch.url)
            w.member("status", fetch.status.rawValue)
            w.member("created_at", DateTime.format(fetch.createdAt))
            w.endObject()
        }
    }

    /// The create input, checked (400 with the refusal's code).
    static func read(_ call: Call<FetchApp>) throws -> FetchRequest {
        do { return try FetchRequest.read(call.params, policy: call.app.policy) } catch let refusal as FetchRequest.Refusal {
            throw Failure(status: 400, code: refusal.code, message: refusal.message)
        }
    }

    static let statuses = Fetch.Status.allCases.map(\.rawValue).joined(separator: ", ")

    /// Newest first, `?status=` one of the four, the JSON dialects' list envelope (`fetches`).
    static let list: FetchEndpoint = { call in
        var status: Fetch.Status?
        if let wanted = call.params["status"]?.string, !wanted.isEmpty {
            guard let known = Fetch.Status(rawValue: wanted) else {
                throw Failure.badRequest("status must be one of: \(statuses)")
            }
            status = known
        }
        let pagination = Pagination(call.params, maxPerPage: Pagination.maxJSONPerPage)
        let listing = try call.app.fetches.list(accountID: call.accountID, status: status,
                                                page: Page(limit: pagination.perPage, offset: pagination.offset, after: pagination.after))
        return JSONWire.list("fetches", listing, pagination) { fetch, w in
            FetchViews.status(fetch, downloadBase: call.app.host.publicURL, into: &w)
        }
    }

    static let show: FetchEndpoint = { call in
        let fetch = try call.app.fetches.get(accountID: call.accountID, publicID: call.capture("id"))
        return reply(fetch, call)
    }

    /// A pending or running fetch is cancelled (200, its status object: `failed`, `cancelled`);
    /// a finished one is deleted with its file (200 `{"id", "deleted": true}`).
    static let delete: FetchEndpoint = { call in
        let id = call.capture("id")
        switch try call.app.fetches.cancelOrDelete(accountID: call.accountID, publicID: id) {
        case .cancelled(let fetch):
            return reply(fetch, call)
        case .deleted:
            return JSONWire.deleted(id: id)
        }
    }

    /// 302 to a short-lived signed link, as Files downloads.
    static let download: FetchEndpoint = { call in
        try FetchDownload.redirect(try call.app.fetches.get(accountID: call.accountID, publicID: call.capture("id")),
                                   host: call.app.host, params: call.params) { fetch in
            Failure(status: 409, code: "not_ready", message: "Fetch \(fetch.id) is \(fetch.status.rawValue), not ready")
        }
    }

    /// `?url=` or `{url}`: checked against the address policy first, then asked of the source.
    static let metadata: FetchEndpoint = { call in
        try MetadataEndpoint.answer(call.params, policy: call.app.policy, source: call.app.metadata)
    }

    /// The fetch's webhook attempts, oldest first: `{"deliveries": [{id, message_id, url, attempt,
    /// attempted_at, status, duration_ms, error}]}` (`status` null when no answer came).
    static let deliveries: FetchEndpoint = { call in
        let fetch = try call.app.fetches.get(accountID: call.accountID, publicID: call.capture("id"))
        let attempts = try WebhookService(db: call.app.context.db).deliveries(subjectID: fetch.id)
        return JSONWire.reply(capacity: 256 + attempts.count * 256) { w in
            w.beginObject()
            w.key("deliveries")
            w.beginArray()
            for attempt in attempts { write(attempt, withSubject: false, into: &w) }
            w.endArray()
            w.endObject()
        }
    }

    /// Every webhook attempt of the account, newest first, in the list envelope (`deliveries`):
    /// the members of `/fetch/:id/deliveries` plus `fetch_id`, the public id of what the
    /// message was about (a fetch; a batch's id for `batch.completed`).
    static let allDeliveries: FetchEndpoint = { call in
        let pagination = Pagination(call.params, maxPerPage: Pagination.maxJSONPerPage)
        let listing = try WebhookService(db: call.app.context.db)
            .deliveries(accountID: call.accountID, page: Page(limit: pagination.perPage, offset: pagination.offset, after: pagination.after))
        return JSONWire.list("deliveries", listing, pagination) { attempt, w in write(attempt, withSubject: true, into: &w) }
    }

    static func write(_ attempt: WebhookDelivery, withSubject: Bool, into w: inout JSONWriter) {
        w.beginObject()
        w.member("id", attempt.id)
        if withSubject { w.member("fetch_id", attempt.subjectID) }
        w.member("message_id", attempt.messageID)
        w.member("url", attempt.url)
        w.member("attempt", attempt.attempt)
        w.member("attempted_at", DateTime.format(attempt.attemptedAt))
        w.member("status", attempt.status.map(Int64.init))
        w.member("duration_ms", attempt.durationMs)
        w.member("error", attempt.error)
        w.endObject()
    }

    static func reply(_ fetch: Fetch, _ call: Call<FetchApp>) -> Response {
        JSONWire.reply(capacity: 1024) { FetchViews.status(fetch, downloadBase: call.app.host.publicURL, into: &$0) }
    }
}
