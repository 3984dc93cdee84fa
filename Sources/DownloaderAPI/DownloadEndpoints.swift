import Dialect
import Domain
import FetchViews
import HTTPCore

/// Seed 003: start a download, list them, get the file (nginx sends it), remove one.
enum DownloadEndpoints {
    static func register(_ r: inout Routes<DownloaderApp>) {
        r.post("/api/download", start)
        r.get("/api/downloads", list)
        r.get("/api/download/:id/file", file)
        r.delete("/api/downloads/:id/remove", remove)
    }

    static let notAvailable = Failure(status: 404, code: "not_found", message: "Descarga no disponible o no completada")
    static let fileMissing = Failure(status: 404, code: "file_missing", message: "Archivo físico no encontrado")
    static let unknown = Failure(status: 404, code: "not_found", message: "Descarga no encontrada")

    /// `{url, quality}` → 200 `{"download_id", "status": "pending"}`.
    static let start: DownloaderEndpoint = Idempotency.create { call in
        let input: FetchRequest
        do { input = try FetchRequest.read(call.params, policy: call.app.policy) } catch let refusal as FetchRequest.Refusal {
            throw Failure(status: 400, code: refusal.code, message: refusal.message)
        }
        let fetch = try call.app.fetches.create(accountID: call.accountID, url: input.url, quality: input.quality,
                                                webhookURL: input.webhookURL, origin: .downloader)
        return JSONWire.reply { w in
            w.beginObject()
            w.member("download_id", fetch.id)
            w.member("status", "pending")
            w.endObject()
        }
    }

    /// Most lists ever asked: the newest this many downloads.
    static let listLimit = Pagination.maxJSONPerPage

    /// A JSON array, newest first: `{id, url, title, status, progress, quality, filename, error, created_at}`.
    static let list: DownloaderEndpoint = { call in
        let fetches = try call.app.fetches.newest(accountID: call.accountID, limit: listLimit)
        return JSONWire.reply(capacity: 256 + 320 * fetches.count) { w in
            w.beginArray()
            for fetch in fetches { entry(fetch, &w) }
            w.endArray()
        }
    }

    /// One download as the seed shows it: status `pending | downloading | completed | failed`,
    /// progress a number from 0 to 100, error "<code>: <readable message>" or null.
    static func entry(_ fetch: Fetch, _ w: inout JSONWriter) {
        w.beginObject()
        w.member("id", fetch.id)
        w.member("url", fetch.url)
        w.member("title", fetch.title)
        w.member("status", status(fetch.status))
        w.key("progress")
        w.double(fetch.status == .success ? 100 : min(100, max(0, fetch.progress.percent ?? 0)))
        w.member("quality", fetch.quality)
        w.member("filename", fetch.filename)
        w.member("error", fetch.errorCode.map { code in fetch.errorMessage.map { code + ": " + $0 } ?? code })
        w.member("created_at", DateTime.format(fetch.createdAt))
        w.endObject()
    }

    static func status(_ status: Fetch.Status) -> String {
        switch status {
        case .pending: "pending"
        case .running: "downloading"
        case .success: "completed"
        case .failed: "failed"
        }
    }

    /// The bytes, sent by nginx (`X-Accel-Redirect`), typed by the extension and named by the title.
    static let file: DownloaderEndpoint = { call in
        let fetch: Fetch
        do { fetch = try call.app.fetches.get(accountID: call.accountID, publicID: call.capture("id")) } catch DomainError.notFound {
            throw notAvailable
        }
        guard fetch.status == .success, let key = fetch.storageKey else { throw notAvailable }
        let storage = call.app.host.storage
        guard try storage.attributes(key: key) != nil else { throw fileMissing }
        let filename = fetch.filename ?? FetchService.filename(title: fetch.title, ext: "")
        let type = ContentTypes.guess(filename: filename)
        let delivery = try storage.delivery(key: key, filename: filename, contentType: type, route: .behindReply)
        if let location = delivery.location(base: call.app.host.publicURL) {
            return Response(status: 302, headers: [("Location", location), ("Cache-Control", "private, no-store")])
        }
        guard case .internalPath(let path) = delivery else { throw StorageError(description: "no delivery for \(key)") }
        return Response(status: 200, headers: [
            ("X-Accel-Redirect", path),
            ("Content-Type", type),
            ("Content-Disposition", ContentDisposition.attachmentExtendedFirst(filename: filename)),
            ("Cache-Control", "private, no-store"),
        ])
    }

    /// Cancels it if it runs, and removes the record and the file: 200 `{"detail", "id"}`.
    static let remove: DownloaderEndpoint = { call in
        let id = call.capture("id")
        do { try call.app.fetches.remove(accountID: call.accountID, publicID: id) } catch DomainError.notFound {
            throw unknown
        }
        return DetailWire.detail("Descarga eliminada", id: id)
    }
}
