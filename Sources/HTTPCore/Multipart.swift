import Formats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `multipart/form-data` (RFC 7578 / RFC 2046) part locator.
///
/// Upload bodies are buffered to a file by nginx; `parts(inFileAt:)` streams
/// that file in fixed-size reads and reports where each part's content lies
/// (absolute byte offsets in the body) without loading the body into memory.
/// The in-memory variant runs the very same scanner over an array.
///
/// Grammar accepted: an optional preamble, then `--boundary` at the start of the
/// body or after a CRLF; each delimiter line may carry trailing spaces/tabs
/// before its CRLF; each part is a header block ended by an empty line, then
/// content up to the next CRLF `--boundary`; `--boundary--` ends the body and
/// anything after it (the epilogue) is ignored. A `CRLF--boundary` followed by
/// anything other than `--` or optional whitespace + CRLF is not a delimiter
/// and is treated as part content.
public enum Multipart {
    public struct Part: Equatable, Sendable {
        public var name: String
        public var filename: String?
        public var contentType: String?
        /// Offset of the first content byte, from the start of the body.
        public var bodyOffset: Int
        public var bodyLength: Int

        public init(name: String, filename: String? = nil, contentType: String? = nil, bodyOffset: Int, bodyLength: Int) {
            self.name = name
            self.filename = filename
            self.contentType = contentType
            self.bodyOffset = bodyOffset
            self.bodyLength = bodyLength
        }
    }

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public static let maxParts = 100
    public static let maxHeaderBlock = 16 * 1024
    public static let maxBoundaryLength = 70
    /// Longest run of spaces/tabs accepted after a boundary before its CRLF.
    static let maxTransportPadding = 256

    // MARK: - Content-Type

    /// The boundary parameter of a `multipart/form-data` Content-Type, or nil
    /// when the type is something else or has no (non-empty) boundary.
    public static func boundary(fromContentType contentType: String) -> String? {
        let bytes = Array(contentType.utf8)
        var i = 0
        let n = bytes.count
        skipWhitespace(bytes, &i)
        let typeStart = i
        while i < n && bytes[i] != UInt8(ascii: ";") { i += 1 }
        var typeEnd = i
        while typeEnd > typeStart && isWhitespace(bytes[typeEnd - 1]) { typeEnd -= 1 }
        guard asciiEqualsIgnoringCase(bytes[typeStart..<typeEnd], "multipart/form-data") else { return nil }
        for (name, value) in parameters(bytes, from: i) where asciiEqualsIgnoringCase(name[...], "boundary") {
            let boundary = String(decoding: value, as: UTF8.self)
            return boundary.isEmpty ? nil : boundary
        }
        return nil
    }

    // MARK: - Parsing

    public static func parts(in bytes: [UInt8], boundary: String) throws(ParseError) -> [Part] {
        var window = Window(bytes: bytes)
        return try scan(&window, boundary: boundary)
    }

    public static func parts(inFileAt path: String, boundary: String, bufferSize: Int = 64 * 1024) throws(ParseError) -> [Part] {
        try validate(boundary: boundary)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParseError("cannot open multipart body file") }
        defer { close(fd) }
        var window = Window(fd: fd, chunkSize: max(1, bufferSize))
        return try scan(&window, boundary: boundary)
    }

    private static func validate(boundary: String) throws(ParseError) {
        let length = boundary.utf8.count
        guard length > 0 else { throw ParseError("missing boundary") }
        guard length <= maxBoundaryLength else { throw ParseError("boundary longer than 70 characters") }
    }

    private enum Delimiter {
        case part(headersAt: Int)
        case close
        case notDelimiter
        case endOfInput
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let headerEnd: [UInt8] = [13, 10, 13, 10]

    private static func scan(_ w: inout Window, boundary: String) throws(ParseError) -> [Part] {
        try validate(boundary: boundary)
        // CRLF "--" boundary; the opening one may also sit at offset 0 without CRLF.
        let delimiter: [UInt8] = crlf + Array("--".utf8) + Array(boundary.utf8)
        let dashBoundary = delimiter[2...]

        // Opening delimiter.
        var kind = Delimiter.notDelimiter
        if try w.matches(dashBoundary, at: 0) {
            kind = try classify(&w, at: dashBoundary.count)
        }
        if case .notDelimiter = kind {
            var from = 0
            while true {
                guard let m = try w.find(delimiter, from: from) else { throw ParseError("missing boundary") }
                kind = try classify(&w, at: m + delimiter.count)
                if case .notDelimiter = kind { from = m + 1 } else { break }
            }
        }

        var parts: [Part] = []
        while true {
            let headersAt: Int
            switch kind {
            case .close: return parts
            case .endOfInput, .notDelimiter: throw ParseError("truncated multipart body")
            case .part(let at): headersAt = at
            }
            guard parts.count < maxParts else { throw ParseError("more than \(maxParts) parts") }

            // Header block, up to the empty line.
            let bodyStart: Int
            let headerBytes: [UInt8]
            if try w.matches(crlf[...], at: headersAt) {
                headerBytes = []
                bodyStart = headersAt + 2
            } else {
                w.pin = headersAt
                guard let end = try w.find(headerEnd, from: headersAt, maxStart: headersAt + maxHeaderBlock) else {
                    if try w.ensure(headersAt + maxHeaderBlock + headerEnd.count) {
                        throw ParseError("part header block larger than 16 KiB")
                    }
                    throw ParseError("truncated multipart body")
                }
                headerBytes = w.copy(headersAt..<end)
                w.pin = Int.max
                bodyStart = end + headerEnd.count
            }
            var part = try parseHeaders(headerBytes)

            // Content, up to the next real delimiter.
            var from = bodyStart
            while true {
                guard let m = try w.find(delimiter, from: from) else { throw ParseError("truncated multipart body") }
                kind = try classify(&w, at: m + delimiter.count)
                if case .notDelimiter = kind {
                    from = m + 1
                    continue
                }
                part.bodyOffset = bodyStart
                part.bodyLength = m - bodyStart
                break
            }
            parts.append(part)
        }
    }

    /// What follows a `--boundary` ending just before `at`.
    private static func classify(_ w: inout Window, at q: Int) throws(ParseError) -> Delimiter {
        guard try w.ensure(q + 1) else { return .endOfInput }
        if w[q] == UInt8(ascii: "-") {
            guard try w.ensure(q + 2) else { return .endOfInput }
            return w[q + 1] == UInt8(ascii: "-") ? .close : .notDelimiter
        }
        var i = q
        while i - q <= maxTransportPadding {
            guard try w.ensure(i + 1) else { return .endOfInput }
            let c = w[i]
            if c == 32 || c == 9 {
                i += 1
                continue
            }
            if c != 13 { return .notDelimiter }
            guard try w.ensure(i + 2) else { return .endOfInput }
            return w[i + 1] == 10 ? .part(headersAt: i + 2) : .notDelimiter
        }
        return .notDelimiter
    }

    // MARK: - Part headers

    private static func parseHeaders(_ block: [UInt8]) throws(ParseError) -> Part {
        var disposition: ArraySlice<UInt8>? = nil
        var contentType: ArraySlice<UInt8>? = nil
        // Lines end in CRLF (a bare LF is tolerated); folded lines continue the previous header.
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        let n = block.count
        while start <= n {
            var end = start
            while end < n && block[end] != 10 { end += 1 }
            var lineEnd = end
            if lineEnd > start && block[lineEnd - 1] == 13 { lineEnd -= 1 }
            let line = block[start..<lineEnd]
            if let first = line.first, isWhitespace(first), !lines.isEmpty {
                // Obsolete line folding: join onto the previous line.
                var joined = Array(lines[lines.count - 1])
                joined.append(32)
                joined.append(contentsOf: line.drop(while: isWhitespace))
                lines[lines.count - 1] = joined[...]
            } else if !line.isEmpty {
                lines.append(line)
            }
            start = end + 1
        }
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            var nameEnd = colon
            while nameEnd > line.startIndex && isWhitespace(line[nameEnd - 1]) { nameEnd -= 1 }
            let name = line[line.startIndex..<nameEnd]
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd && isWhitespace(line[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart && isWhitespace(line[valueEnd - 1]) { valueEnd -= 1 }
            let value = line[valueStart..<valueEnd]
            if asciiEqualsIgnoringCase(name, "content-disposition") {
                if disposition == nil { disposition = value }
            } else if asciiEqualsIgnoringCase(name, "content-type") {
                if contentType == nil { contentType = value }
            }
        }

        guard let disposition else { throw ParseError("part without Content-Disposition name") }
        let dispositionBytes = Array(disposition)
        var i = 0
        while i < dispositionBytes.count && dispositionBytes[i] != UInt8(ascii: ";") { i += 1 }
        var fieldName: String? = nil
        var filename: String? = nil
        var extendedFilename: String? = nil
        for (key, value) in parameters(dispositionBytes, from: i) {
            if asciiEqualsIgnoringCase(key[...], "name") {
                if fieldName == nil { fieldName = String(decoding: value, as: UTF8.self) }
            } else if asciiEqualsIgnoringCase(key[...], "filename") {
                if filename == nil { filename = String(decoding: value, as: UTF8.self) }
            } else if asciiEqualsIgnoringCase(key[...], "filename*") {
                if extendedFilename == nil { extendedFilename = decodeExtendedValue(value) }
            }
        }
        guard let fieldName else { throw ParseError("part without Content-Disposition name") }
        let type = contentType.flatMap { $0.isEmpty ? nil : String(decoding: $0, as: UTF8.self) }
        return Part(name: fieldName, filename: extendedFilename ?? filename, contentType: type, bodyOffset: 0, bodyLength: 0)
    }

    /// RFC 8187 `charset'language'percent-encoded` value; nil when malformed.
    static func decodeExtendedValue(_ value: [UInt8]) -> String? {
        guard let q1 = value.firstIndex(of: UInt8(ascii: "'")),
              let q2 = value[(q1 + 1)...].firstIndex(of: UInt8(ascii: "'")) else { return nil }
        let charset = value[..<q1]
        let decoded = PercentEncoding.decodedBytes(value[(q2 + 1)...])
        if asciiEqualsIgnoringCase(charset, "iso-8859-1") || asciiEqualsIgnoringCase(charset, "latin1") {
            var s = ""
            s.unicodeScalars.append(contentsOf: decoded.map { Unicode.Scalar($0) })
            return s
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    // MARK: - Header parameter lexing

    /// `; key=value; key="quoted \"value\""` pairs starting at `start` (which
    /// should point at the first ";"). Keys are returned as written.
    private static func parameters(_ b: [UInt8], from start: Int) -> [([UInt8], [UInt8])] {
        var result: [([UInt8], [UInt8])] = []
        var i = start
        let n = b.count
        while i < n {
            // Skip separators.
            while i < n && (b[i] == UInt8(ascii: ";") || isWhitespace(b[i])) { i += 1 }
            let keyStart = i
            while i < n && b[i] != UInt8(ascii: "=") && b[i] != UInt8(ascii: ";") && !isWhitespace(b[i]) { i += 1 }
            let key = Array(b[keyStart..<i])
            skipWhitespace(b, &i)
            guard i < n, b[i] == UInt8(ascii: "=") else {
                // A key without a value: skip to the next parameter.
                while i < n && b[i] != UInt8(ascii: ";") { i += 1 }
                continue
            }
            i += 1
            skipWhitespace(b, &i)
            var value: [UInt8] = []
            if i < n && b[i] == UInt8(ascii: "\"") {
                i += 1
                while i < n && b[i] != UInt8(ascii: "\"") {
                    // Only \" and \\ are escapes: Windows paths keep their backslashes.
                    if b[i] == UInt8(ascii: "\\"), i + 1 < n, b[i + 1] == UInt8(ascii: "\"") || b[i + 1] == UInt8(ascii: "\\") {
                        i += 1
                    }
                    value.append(b[i])
                    i += 1
                }
                if i < n { i += 1 }  // closing quote
                while i < n && b[i] != UInt8(ascii: ";") { i += 1 }
            } else {
                let valueStart = i
                while i < n && b[i] != UInt8(ascii: ";") { i += 1 }
                var valueEnd = i
                while valueEnd > valueStart && isWhitespace(b[valueEnd - 1]) { valueEnd -= 1 }
                value = Array(b[valueStart..<valueEnd])
            }
            if !key.isEmpty { result.append((key, value)) }
        }
        return result
    }

    @inline(__always)
    static func isWhitespace(_ c: UInt8) -> Bool { c == 32 || c == 9 }

    private static func skipWhitespace(_ b: [UInt8], _ i: inout Int) {
        while i < b.count && isWhitespace(b[i]) { i += 1 }
    }

    /// Compares ASCII bytes to a lowercase ASCII literal, ignoring case.
    static func asciiEqualsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        var j = 0
        for c in bytes {
            let lower = c >= 65 && c <= 90 ? c + 32 : c
            if lower != expected[j] { return false }
            j += 1
        }
        return true
    }
}

// MARK: - Sliding window over the body

/// Bytes of the body addressed by absolute offset. In memory the window is the
/// whole array; over a file it holds only the bytes still needed (a partial
/// delimiter match, a header block of at most 16 KiB) plus one read chunk.
private struct Window {
    private var buffer: [UInt8]
    /// Absolute offset of `buffer[0]`.
    private var base = 0
    /// Bytes before this absolute offset may be dropped.
    private var releasedUpTo = 0
    /// While a header block is being located, bytes from here on are kept.
    var pin = Int.max
    private let fd: Int32
    private var atEOF: Bool
    private var chunk: [UInt8]

    init(bytes: [UInt8]) {
        buffer = bytes
        fd = -1
        atEOF = true
        chunk = []
    }

    init(fd: Int32, chunkSize: Int) {
        buffer = []
        self.fd = fd
        atEOF = false
        chunk = [UInt8](repeating: 0, count: chunkSize)
    }

    var end: Int { base + buffer.count }

    subscript(position: Int) -> UInt8 {
        buffer[position - base]
    }

    /// Makes bytes up to (not including) `limit` available; false if the body ends first.
    mutating func ensure(_ limit: Int) throws(Multipart.ParseError) -> Bool {
        while end < limit {
            if atEOF { return false }
            try readChunk()
        }
        return true
    }

    private mutating func readChunk() throws(Multipart.ParseError) {
        // Drop what is no longer needed before growing.
        let drop = min(min(releasedUpTo, pin) - base, buffer.count)
        if drop > 0 {
            buffer.removeFirst(drop)
            base += drop
        }
        var got = 0
        while true {
            got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            break
        }
        if got < 0 { throw Multipart.ParseError("cannot read multipart body file") }
        if got == 0 {
            atEOF = true
        } else {
            buffer.append(contentsOf: chunk[0..<got])
        }
    }

    mutating func matches(_ pattern: ArraySlice<UInt8>, at position: Int) throws(Multipart.ParseError) -> Bool {
        guard try ensure(position + pattern.count) else { return false }
        var p = position
        for c in pattern {
            if self[p] != c { return false }
            p += 1
        }
        return true
    }

    func copy(_ range: Range<Int>) -> [UInt8] {
        Array(buffer[(range.lowerBound - base)..<(range.upperBound - base)])
    }

    /// Absolute offset of the first occurrence of `pattern` starting in
    /// `from...maxStart`, or nil if there is none before the body ends.
    mutating func find(_ pattern: [UInt8], from: Int, maxStart: Int = Int.max) throws(Multipart.ParseError) -> Int? {
        let length = pattern.count
        var position = from
        while position <= maxStart {
            releasedUpTo = max(releasedUpTo, position)
            guard try ensure(position + length) else { return nil }
            // ensure() succeeded, so position <= lastStart.
            let lastStart = min(end - length, maxStart)
            let found: Int? = buffer.withUnsafeBufferPointer { buf in
                pattern.withUnsafeBufferPointer { pat in
                    let first = pat[0]
                    var i = position - base
                    let last = lastStart - base
                    while i <= last {
                        guard let hit = memchr(buf.baseAddress! + i, Int32(first), last - i + 1) else { return nil }
                        i = UnsafeRawPointer(buf.baseAddress!).distance(to: UnsafeRawPointer(hit))
                        if memcmp(buf.baseAddress! + i, pat.baseAddress!, length) == 0 { return i + base }
                        i += 1
                    }
                    return nil
                }
            }
            if let found { return found }
            position = lastStart + 1
        }
        return nil
    }
}
