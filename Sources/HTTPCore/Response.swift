/// An HTTP response: status, headers, body. Rendering to the wire is the adapter's job.
public struct Response: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// When false the adapter leaves out `Content-Length`, so nginx frames the reply chunked
    /// (one real client of the store dialect stalls on pooled, length-framed replies).
    public var sendsContentLength: Bool

    public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = [], sendsContentLength: Bool = true) {
        self.status = status
        self.headers = headers
        self.body = body
        self.sendsContentLength = sendsContentLength
    }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }

    public static func reason(for status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 302: return "Found"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        case 507: return "Insufficient Storage"
        default: return "Status"
        }
    }

    /// CGI response head plus body in one buffer: `Status: …`, headers, blank line, body.
    public func serialize(into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: "Status: \(status) \(Response.reason(for: status))\r\n".utf8)
        for (name, value) in headers {
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            // Header injection guard: never pass CR/LF through.
            for c in value.utf8 where c != 13 && c != 10 { out.append(c) }
            out.append(contentsOf: "\r\n".utf8)
        }
        if sendsContentLength {
            out.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: body)
    }
}
