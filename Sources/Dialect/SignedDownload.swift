import Domain
import HTTPCore
#if canImport(Glibc)
import Glibc
#endif

/// The JSON dialects' downloads: 302 to a short-lived link that nginx checks (`secure_link`)
/// and serves (Range included), or to a bucket's presigned URL: `{"url", "expires_at"}` beside it.
/// With `?redirect=false` the same JSON comes as a 200 without `Location`: for a client that
/// must not follow the link with its own headers (the dashboard, whose fetch would carry the API
/// key to a bucket on another origin, where CORS stops it anyway).
public enum SignedDownload {
    /// Whether `params` ask for the link instead of the redirect (`redirect=false`); 400 for another value than true/false.
    public static func wantsLinkOnly(_ params: Params) throws -> Bool {
        switch params["redirect"]?.string {
        case nil, "true": return false
        case "false": return true
        case let other?: throw Failure(status: 400, code: "bad_request", message: "redirect must be true or false, not '\(other)'")
        }
    }

    public static func redirect(_ host: HostSettings, key: String, filename: String, contentType: String,
                                params: Params = .null) throws -> Response {
        let linkOnly = try wantsLinkOnly(params)
        let expires = Int64(time(nil)) + host.linkSeconds
        let delivery = try host.storage.delivery(key: key, filename: filename, contentType: contentType, route: .link(expires: expires))
        guard let location = delivery.location(base: host.publicURL) else {
            throw StorageError(description: "the file store gave no link for \(key)")
        }
        let body = JSONWriter.document { w in
            w.beginObject()
            w.member("url", location)
            w.member("expires_at", DateTime.format(expires))
            w.endObject()
        }
        if linkOnly {
            return Response(status: 200, headers: [("Cache-Control", "no-store"), ("Content-Type", "application/json")], body: body)
        }
        return Response(status: 302, headers: [("Location", location), ("Cache-Control", "no-store"),
                                               ("Content-Type", "application/json")], body: body)
    }
}
