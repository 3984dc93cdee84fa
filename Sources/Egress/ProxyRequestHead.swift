// The egress guard's request-head reader: a pure function of the bytes a proxy client sent.
// Standard library only: the fuzz package links this one file (Fuzz/Sources/EgressHead).

/// One request to the proxy, read from its head: either an absolute-form `http://` request
/// (forwarded to the origin in origin-form) or a `CONNECT host:port` tunnel.
public struct ProxyRequestHead: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        /// `METHOD http://host[:port][/path] HTTP/1.x`; `path` is origin-form (starts with "/").
        case http(host: String, port: Int, path: String)
        /// `CONNECT host:port HTTP/1.x`.
        case connect(host: String, port: Int)
    }

    public let method: String
    public let target: Target
    /// "HTTP/1.1" or "HTTP/1.0".
    public let version: String
    /// Every header line as received (name as sent, value without surrounding blanks).
    public let headers: [Header]
    /// The request body's length (Content-Length; 0 when absent).
    public let contentLength: Int
    /// Bytes the head took, through its blank line; what follows is the body (or tunnel data).
    public let headLength: Int

    public struct Header: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    /// The host as asked: lowercase, IPv6 literals without brackets.
    public var host: String {
        switch target { case .http(let host, _, _), .connect(let host, _): return host }
    }

    public var port: Int {
        switch target { case .http(_, let port, _), .connect(_, let port): return port }
    }

    /// The largest head read (request line and headers): a longer one is refused.
    public static let maxHeadBytes = 16 * 1024

    public enum Parsed: Sendable, Equatable {
        /// No blank line yet (and under the limit): read more.
        case incomplete
        case complete(ProxyRequestHead)
        /// Malformed, or a form the guard does not serve: answer 400 with the reason.
        case invalid(String)
        /// No blank line within `maxHeadBytes`.
        case tooLarge
    }

    /// Headers that describe one connection (RFC 9110 §7.6.1) and so never travel to the origin;
    /// every `Proxy-*` header and `Host` (rebuilt from the target) are dropped as well.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"]

    /// Reads a head from the start of `bytes` (which may hold more: body or tunnel bytes).
    public static func parse(_ bytes: [UInt8], maxHeadBytes: Int = ProxyRequestHead.maxHeadBytes) -> Parsed {
        guard let end = headEnd(bytes, limit: maxHeadBytes) else {
            return bytes.count >= maxHeadBytes ? .tooLarge : .incomplete
        }
        let lines = splitLines(bytes[0..<end])
        guard let requestLine = lines.first else { return .invalid("empty request") }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .invalid("the request line is not METHOD TARGET VERSION") }
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { return .invalid("bad method") }
        let method = String(decoding: parts[0], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .invalid("only HTTP/1.0 and HTTP/1.1") }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return .invalid("bad request target") }
        let rawTarget = String(decoding: parts[1], as: UTF8.self)

        let target: Target
        switch method == "CONNECT" ? connectTarget(rawTarget) : httpTarget(rawTarget) {
        case .success(let t): target = t
        case .failure(let problem): return .invalid(problem.message)
        }

        var headers: [Header] = []
        var contentLength: Int?
        for line in lines.dropFirst() {
            guard let first = line.first, first != 0x20, first != 0x09 else { return .invalid("folded header lines are not accepted") }
            guard let colon = line.firstIndex(of: 0x3a) else { return .invalid("a header line without a colon") }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return .invalid("bad header name") }
            let rawValue = line[(colon + 1)...]
            guard rawValue.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7f) }) else { return .invalid("control bytes in a header value") }
            let header = Header(name: String(decoding: name, as: UTF8.self), value: trimmed(rawValue))
            switch header.name.lowercased() {
            case "content-length":
                guard !header.value.isEmpty, header.value.utf8.count <= 15, header.value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                      let length = Int(header.value) else { return .invalid("bad Content-Length") }
                if let earlier = contentLength, earlier != length { return .invalid("two different Content-Length values") }
                contentLength = length
            case "transfer-encoding":
                return .invalid("request bodies with Transfer-Encoding are not forwarded")
            default:
                break
            }
            headers.append(header)
        }
        if case .connect = target, (contentLength ?? 0) != 0 { return .invalid("CONNECT with a body") }
        return .complete(ProxyRequestHead(method: method, target: target, version: version, headers: headers,
                                          contentLength: contentLength ?? 0, headLength: end))
    }

    /// The head sent to the origin: origin-form request line, `Host` from the target, the client's
    /// headers without hop-by-hop ones (those named in `Connection` too) or any `Proxy-*`, and
    /// `Connection: close`, so that this connection carries exactly one request.
    public func forwardedHead() -> [UInt8] {
        guard case .http(let host, let port, let path) = target else { return [] }
        var named = Set<String>()
        for header in headers where header.name.lowercased() == "connection" {
            for token in header.value.split(separator: ",") { named.insert(ProxyRequestHead.trimmed(Array(token.utf8)[...]).lowercased()) }
        }
        let hostField = host.contains(":") ? "[\(host)]" : host
        var text = "\(method) \(path) \(version)\r\nHost: \(hostField)\(port == 80 ? "" : ":\(port)")\r\n"
        for header in headers {
            let name = header.name.lowercased()
            if ProxyRequestHead.hopByHop.contains(name) || name.hasPrefix("proxy-") || named.contains(name) { continue }
            text += "\(header.name): \(header.value)\r\n"
        }
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8)
    }

    // MARK: - Pieces

    private struct Problem: Error { let message: String }

    /// `http://host[:port][/path-and-query]`; no userinfo, no other scheme.
    private static func httpTarget(_ raw: String) -> Result<Target, Problem> {
        let bytes = Array(raw.utf8)
        let scheme = Array("http://".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ lower($0) == $1 }) else {
            return .failure(Problem(message: "only absolute http:// targets and CONNECT are served"))
        }
        let rest = bytes[scheme.count...]
        let authorityEnd = rest.firstIndex(where: { $0 == 0x2f || $0 == 0x3f || $0 == 0x23 }) ?? rest.endIndex
        var path = String(decoding: rest[authorityEnd...], as: UTF8.self)
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if !path.hasPrefix("/") { path = "/" + path }
        guard !rest[rest.startIndex..<authorityEnd].contains(0x40) else { return .failure(Problem(message: "userinfo is not accepted")) }
        switch authority(rest[rest.startIndex..<authorityEnd], defaultPort: 80) {
        case .success(let (host, port)): return .success(.http(host: host, port: port, path: path))
        case .failure(let problem): return .failure(problem)
        }
    }

    /// `host:port`, the port required.
    private static func connectTarget(_ raw: String) -> Result<Target, Problem> {
        switch authority(Array(raw.utf8)[...], defaultPort: nil) {
        case .success(let (host, port)): return .success(.connect(host: host, port: port))
        case .failure(let problem): return .failure(problem)
        }
    }

    /// A host (a name, dotted or numeric IPv4 spelling, or a bracketed IPv6 literal) and a port 1-65535.
    private static func authority(_ bytes: ArraySlice<UInt8>, defaultPort: Int?) -> Result<(String, Int), Problem> {
        var hostBytes: ArraySlice<UInt8>
        var portBytes: ArraySlice<UInt8>?
        if bytes.first == 0x5b {
            guard let close = bytes.firstIndex(of: 0x5d) else { return .failure(Problem(message: "unclosed IPv6 literal")) }
            hostBytes = bytes[(bytes.startIndex + 1)..<close]
            let after = bytes[(close + 1)...]
            if let colon = after.first {
                guard colon == 0x3a else { return .failure(Problem(message: "bad authority")) }
                portBytes = after.dropFirst()
            }
            guard !hostBytes.isEmpty, hostBytes.allSatisfy({ isHexDigit($0) || $0 == 0x3a || $0 == 0x2e }) else {
                return .failure(Problem(message: "bad IPv6 literal"))
            }
        } else {
            if let colon = bytes.firstIndex(of: 0x3a) {
                hostBytes = bytes[bytes.startIndex..<colon]
                portBytes = bytes[(colon + 1)...]
            } else {
                hostBytes = bytes
            }
            guard !hostBytes.isEmpty, hostBytes.allSatisfy({ isAlphaNumeric($0) || $0 == 0x2d || $0 == 0x2e || $0 == 0x5f }) else {
                return .failure(Problem(message: "bad host"))
            }
        }
        guard hostBytes.count <= 253 else { return .failure(Problem(message: "host name too long")) }
        let port: Int
        if let digits = portBytes {
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = Int(String(decoding: digits, as: UTF8.self)), (1...65535).contains(value) else {
                return .failure(Problem(message: "bad port"))
            }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            return .failure(Problem(message: "CONNECT needs host:port"))
        }
        return .success((String(decoding: hostBytes.map(lower), as: UTF8.self), port))
    }

    /// The index just past the first CRLFCRLF within `limit` bytes.
    private static func headEnd(_ bytes: [UInt8], limit: Int) -> Int? {
        let scan = min(bytes.count, limit)
        guard scan >= 4 else { return nil }
        var i = 0
        while i + 3 < scan {
            if bytes[i + 3] != 0x0a { i += 1; continue }
            if bytes[i] == 0x0d && bytes[i + 1] == 0x0a && bytes[i + 2] == 0x0d { return i + 4 }
            i += 1
        }
        return nil
    }

    /// The head's lines, split on CRLF (the final blank line excluded). A lone CR or LF is left in
    /// its line, where the checks refuse it.
    private static func splitLines(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        while i + 1 < head.endIndex {
            if head[i] == 0x0d && head[i + 1] == 0x0a {
                if i == start { break }
                lines.append(head[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        return lines
    }

    private static func trimmed(_ value: ArraySlice<UInt8>) -> String {
        var slice = value
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }

    private static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte }
    private static func isAlphaNumeric(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
    private static func isHexDigit(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66) }
    /// RFC 9110 tchar.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        isAlphaNumeric(b) || "!#$%&'*+-.^_`|~".utf8.contains(b)
    }
}
