import Crypto

/// Short-lived signed download URLs checked by nginx's `secure_link`:
/// `secure_link_md5 "$secure_link_expires$uri$arg_name <secret>"`, so the link covers its
/// expiry, its path and the download name. Tampered → nginx 403, expired → 410.
public struct URLSigner: Sendable {
    public let secret: String

    public init(secret: String) { self.secret = secret }

    /// `path?md5=…&expires=…&name=…` with `name` percent-encoded (signed as sent).
    public func sign(path: String, expires: Int64, name: String) -> String {
        let encodedName = PercentEncoding.component(name)
        let digest = Digest.md5(Array("\(expires)\(path)\(encodedName) \(secret)".utf8))
        let md5 = Base64.encode(digest, urlSafe: true, padding: false)
        return "\(path)?md5=\(md5)&expires=\(expires)&name=\(encodedName)"
    }
}
