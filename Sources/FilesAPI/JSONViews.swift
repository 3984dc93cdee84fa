import Dialect
import Domain
import HTTPCore

/// Wire shapes of the Files dialect, written with `JSONWriter` straight into the reply's bytes.
enum JSONViews {
    /// `body` writes the one value of the reply.
    static func reply(status: Int = 200, capacity: Int = 512, _ body: (inout JSONWriter) -> Void) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: JSONWriter.document(capacity: capacity, body))
    }

    /// `{"error": {"code": …, "message": …}}` with the failure's status.
    static func failure(_ failure: Failure) -> Response {
        let message = failure.status == 401 ? "Send your API key in the X-API-KEY header" : failure.message
        var response = reply(status: failure.status) { w in
            w.beginObject()
            w.key("error")
            w.beginObject()
            w.member("code", failure.code)
            w.member("message", message)
            w.endObject()
            w.endObject()
        }
        response.headers.append(contentsOf: failure.headers)
        return response
    }

    /// The list envelope of the JSON dialects: `{"<name>": [items…], "page", "per_page", "total",
    /// "has_more", "next_cursor"}`; `item` writes one element. `next_cursor` is the `after` of the
    /// next page, null on the last one.
    static func list<Item>(_ name: StaticString, _ listing: Listing<Item>, _ pagination: Pagination,
                           item: (Item, inout JSONWriter) -> Void) -> Response {
        reply(capacity: 256 + 768 * listing.items.count) { w in
            w.beginObject()
            w.key(name)
            w.beginArray()
            for element in listing.items { item(element, &w) }
            w.endArray()
            w.member("page", pagination.page)
            w.member("per_page", pagination.perPage)
            w.member("total", listing.total)
            w.member("has_more", listing.hasMore)
            w.member("next_cursor", listing.nextCursor)
            w.endObject()
        }
    }

    /// A file. `error`/`ffprobe_error` are readable messages and `error_code`/`ffprobe_error_code`
    /// their stable codes (`MediaFileError`); neither ever carries a path or a tool's own text.
    /// An error on a file that has not failed (pending or processing) is its last attempt's: it will be retried.
    /// `download_url` (`<downloadBase>/files/<id>/<name>`, written in pieces) is there for a ready
    /// file when `downloadBase` (the public URL, "" for paths) is given.
    static func file(_ file: MediaFile, downloadBase: String?, into w: inout JSONWriter) {
        let failure = file.failure
        let probeFailure = file.probeFailure
        let retrying = file.status == .pending || file.status == .processing
        w.beginObject()
        w.member("id", file.id)
        w.member("name", file.name)
        w.member("source", file.source.rawValue)
        w.member("source_url", file.sourceURL)
        w.member("status", file.status.rawValue)
        w.member("size_bytes", file.sizeBytes)
        w.member("content_type", file.contentType)
        w.member("created_at", DateTime.format(file.createdAt))
        w.key("download_url")
        if file.status == .ready, let downloadBase {
            w.beginString()
            w.stringContent(downloadBase)
            w.stringContent("/files/")
            w.stringContent(file.id)
            w.stringContent("/")
            w.stringContent(PercentEncoding.component(file.name))
            w.endString()
        } else {
            w.null()
        }
        w.member("error", failure.map { retrying ? $0.message + "; will retry" : $0.message })
        w.member("error_code", failure?.code.rawValue)
        w.key("ffprobe")
        w.raw(file.ffprobe)
        w.member("ffprobe_error", probeFailure?.message)
        w.member("ffprobe_error_code", probeFailure?.code.rawValue)
        w.endObject()
    }

    /// One file as the whole reply.
    static func file(_ file: MediaFile, downloadBase: String?, status: Int = 200) -> Response {
        reply(status: status, capacity: 768) { JSONViews.file(file, downloadBase: downloadBase, into: &$0) }
    }
}
