import Crypto

/// What a caller presented to prove who it is. One extraction for every dialect:
/// HTTP Basic `key:token` (also what curl sends for `http://key:token@host/`),
/// the `X-API-KEY` header, or the `?key=` query parameter (the latter two carry the token).
public enum Credentials: Equatable, Sendable {
    case keyAndToken(key: String, token: String)
    case token(String)

    public static func from(_ request: Request) -> Credentials? {
        if let authorization = request.header("authorization") {
            return basic(authorization)
        }
        if let token = request.header("x-api-key"), !token.isEmpty {
            return .token(token)
        }
        if let token = request.query["key"]?.string, !token.isEmpty {
            return .token(token)
        }
        return nil
    }

    /// Parses `Basic base64(key:token)`; nil when malformed.
    public static func basic(_ header: String) -> Credentials? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Base64.decode(String(parts[1]).trimmingWhitespace),
              let text = String(validating: decoded, as: UTF8.self),
              // The first colon scalar, not Character: a token that starts with a combining mark
              // makes ":" and that mark one Character, which `firstIndex(of: ":")` passes over.
              let colon = text.unicodeScalars.firstIndex(of: ":") else { return nil }
        let key = String(text.unicodeScalars[..<colon])
        let token = String(text.unicodeScalars[text.unicodeScalars.index(after: colon)...])
        guard !key.isEmpty, !token.isEmpty else { return nil }
        return .keyAndToken(key: key, token: token)
    }

    public var token: String {
        switch self {
        case .keyAndToken(_, let token): return token
        case .token(let token): return token
        }
    }
}
