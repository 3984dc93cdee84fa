import Dialect
import Domain
import HTTPCore

/// Shapes of the Files dialect's entities, written with `JSONWriter` straight into the reply's
/// bytes. Replies, lists and failures are `JSONWire`'s.
enum JSONViews {
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
        JSONWire.reply(status: status, capacity: 768) { JSONViews.file(file, downloadBase: downloadBase, into: &$0) }
    }
}
