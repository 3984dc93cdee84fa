import Domain
import HTTPCore
#if canImport(Glibc)
import Glibc
#endif

/// The JSON dialects' downloads: 302 to a short-lived link that nginx checks (`secure_link`)
/// and serves (Range included), or to a bucket's presigned URL: `{"url", "expires_at"}` beside it.
public enum SignedDownload {
    public static func redirect(_ host: HostSettings, key: String, filename: String, contentType: String) throws -> Response {
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
        return Response(status: 302, headers: [("Location", location), ("Cache-Control", "no-store"),
                                               ("Content-Type", "application/json")], body: body)
    }
}
