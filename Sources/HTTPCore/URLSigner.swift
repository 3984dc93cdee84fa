import Crypto

/// Short-lived signed download URLs checked by nginx's `secure_link`: the link covers its
/// expiry, its path and the download name. Tampered → nginx 403, expired → 410.
///
/// The signed string is defined here once: `sign` computes it and `nginxDirectives` writes the
/// same expression into the nginx configuration (`fetchgate serve` renders it into the template).
public struct URLSigner: Sendable {
    public let secret: String

    public init(secret: String) { self.secret = secret }

    /// What the digest covers, in order; the secret follows after one space.
    enum Part: CaseIterable {
        case expires, path, name

        /// The nginx variable that holds the part when the link comes back.
        var nginxVariable: String {
            switch self {
            case .expires: return "$secure_link_expires"
            case .path: return "$uri"
            case .name: return "$arg_" + URLSigner.nameParameter
            }
        }
    }

    /// Query parameters of a signed link.
    public static let digestParameter = "md5"
    public static let expiresParameter = "expires"
    public static let nameParameter = "name"

    /// `path?md5=…&expires=…&name=…` with `name` percent-encoded (signed as sent).
    public func sign(path: String, expires: Int64, name: String) -> String {
        let encodedName = PercentEncoding.component(name)
        let signed = Part.allCases.map { part -> String in
            switch part {
            case .expires: return String(expires)
            case .path: return path
            case .name: return encodedName
            }
        }.joined() + " " + secret
        let md5 = Base64.encode(Digest.md5(Array(signed.utf8)), urlSafe: true, padding: false)
        return "\(path)?\(URLSigner.digestParameter)=\(md5)&\(URLSigner.expiresParameter)=\(expires)&\(URLSigner.nameParameter)=\(encodedName)"
    }

    /// The `secure_link` and `secure_link_md5` directives that check what `sign` makes.
    public func nginxDirectives() -> String {
        let expression = Part.allCases.map(\.nginxVariable).joined() + " " + secret
        return "secure_link $arg_\(URLSigner.digestParameter),$arg_\(URLSigner.expiresParameter);\n"
            + "            secure_link_md5 \"\(expression)\";"
    }
}
