/// An HTTP request as the web server handed it over (CGI/FastCGI parameters),
/// with nothing socket-related in it.
public struct Request: Sendable {
    public var method: String
    /// Decoded path without query (nginx's `$uri` / `DOCUMENT_URI`).
    public var path: String
    public var rawQuery: String
    /// Header names lower-cased with dashes, e.g. `x-api-key`.
    public var headers: [String: String]
    public var body: [UInt8]
    /// Set when the web server buffered the body to a file and did not pass it on.
    public var bodyFile: String?
    public var remoteAddress: String
    /// True when the body exceeded the server's limit and was dropped.
    public var bodyTooLarge: Bool

    public init(method: String, path: String, rawQuery: String = "", headers: [String: String] = [:],
                body: [UInt8] = [], bodyFile: String? = nil, remoteAddress: String = "127.0.0.1",
                bodyTooLarge: Bool = false) {
        self.method = method.uppercased()
        self.path = path
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
        self.bodyFile = bodyFile
        self.remoteAddress = remoteAddress
        self.bodyTooLarge = bodyTooLarge
    }

    /// Builds a request from CGI-style parameters (what nginx sends over FastCGI).
    public init(cgi params: [String: String], body: [UInt8], bodyTooLarge: Bool = false) {
        var headers: [String: String] = [:]
        for (name, value) in params where name.hasPrefix("HTTP_") {
            headers[Request.headerName(fromCGI: name)] = value
        }
        if let type = params["CONTENT_TYPE"], !type.isEmpty { headers["content-type"] = type }
        if let length = params["CONTENT_LENGTH"], !length.isEmpty { headers["content-length"] = length }
        let requestURI = params["REQUEST_URI"] ?? "/"
        let path = params["DOCUMENT_URI"] ?? String(requestURI.prefix { $0 != "?" })
        let bodyFile = params["REQUEST_BODY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(method: params["REQUEST_METHOD"] ?? "GET", path: path,
                  rawQuery: params["QUERY_STRING"] ?? "", headers: headers, body: body,
                  bodyFile: bodyFile, remoteAddress: params["REMOTE_ADDR"] ?? "", bodyTooLarge: bodyTooLarge)
    }

    /// `HTTP_X_API_KEY` → `x-api-key`.
    static func headerName(fromCGI name: String) -> String {
        var bytes = Array(name.utf8.dropFirst(5))
        for i in bytes.indices {
            if bytes[i] == UInt8(ascii: "_") { bytes[i] = UInt8(ascii: "-") }
            else if bytes[i] >= 65 && bytes[i] <= 90 { bytes[i] += 32 }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func header(_ name: String) -> String? { headers[name] }

    /// Media type of the body without parameters, lower-cased.
    public var contentType: String {
        guard let raw = headers["content-type"] else { return "" }
        return String(raw.prefix { $0 != ";" }).trimmingWhitespace.lowercased()
    }

    public var query: Params { FormParser.parse(rawQuery) }
}

extension String {
    /// The string without leading and trailing whitespace.
    public var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
