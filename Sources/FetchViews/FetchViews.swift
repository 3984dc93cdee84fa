import Domain
import HTTPCore

/// The fetch's status object (seed 000's `GET /fetch/{id}`): the one rendering, used by the
/// Fetch dialect's replies and by the worker when it freezes a webhook's body.
public enum FetchViews {
    /// `{id, url, status, quality, step, progress{percent, bytes, total_bytes, speed, eta}, title,
    /// filename, size_bytes, content_type, duration, ffprobe, download_url, error{code, message}|null,
    /// created_at, started_at, finished_at}`; times are ISO 8601 UTC, unknown values null.
    /// `download_url` (`<downloadBase>/fetch/<id>/<percent-encoded filename>`) is there for a
    /// successful fetch when `downloadBase` (the media server's public URL, "" for paths) is given.
    public static func status(_ fetch: Fetch, downloadBase: String?, into w: inout JSONWriter) {
        w.beginObject()
        w.member("id", fetch.id)
        w.member("url", fetch.url)
        w.member("status", fetch.status.rawValue)
        w.member("quality", fetch.quality)
        w.member("step", fetch.step?.rawValue)
        w.key("progress")
        w.beginObject()
        w.key("percent")
        double(fetch.progress.percent, &w)
        w.member("bytes", fetch.progress.bytes)
        w.member("total_bytes", fetch.progress.totalBytes)
        w.key("speed")
        double(fetch.progress.speed, &w)
        w.member("eta", fetch.progress.eta)
        w.endObject()
        w.member("title", fetch.title)
        w.member("filename", fetch.filename)
        w.member("size_bytes", fetch.sizeBytes)
        w.member("content_type", fetch.contentType)
        w.key("duration")
        double(fetch.duration, &w)
        // What ffprobe found in the stored file (the Files dialect's normalised form); null until then.
        w.key("ffprobe")
        w.raw(fetch.ffprobe)
        w.key("download_url")
        link(downloadPath(fetch), base: downloadBase, into: &w)
        w.key("error")
        if let code = fetch.errorCode {
            w.beginObject()
            w.member("code", code)
            w.member("message", fetch.errorMessage ?? code)
            w.endObject()
        } else {
            w.null()
        }
        w.member("created_at", DateTime.format(fetch.createdAt))
        w.member("started_at", fetch.startedAt.map(DateTime.format))
        w.member("finished_at", fetch.finishedAt.map(DateTime.format))
        w.endObject()
    }

    /// The status object as a whole document (a webhook body).
    public static func status(_ fetch: Fetch, downloadBase: String?) -> [UInt8] {
        JSONWriter.document(capacity: 1024) { status(fetch, downloadBase: downloadBase, into: &$0) }
    }

    /// `/fetch/<id>/<percent-encoded filename>` for a successful fetch with stored bytes; nil otherwise.
    public static func downloadPath(_ fetch: Fetch) -> String? {
        guard fetch.status == .success, fetch.storageKey != nil, let filename = fetch.filename else { return nil }
        return "/fetch/" + fetch.id + "/" + PercentEncoding.component(filename)
    }

    /// `base + path` as a JSON string, written in pieces; null unless both are given.
    public static func link(_ path: String?, base: String?, into w: inout JSONWriter) {
        guard let path, let base else { return w.null() }
        w.beginString()
        w.stringContent(base)
        w.stringContent(path)
        w.endString()
    }

    static func double(_ value: Double?, _ w: inout JSONWriter) {
        if let value { w.double(value) } else { w.null() }
    }
}
