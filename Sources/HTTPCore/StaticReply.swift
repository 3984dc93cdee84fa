/// What nginx's static file handler will answer to a GET of a file, predicted before the
/// app hands the file to nginx (`X-Accel-Redirect`), so a counted download is taken only
/// when nginx will send bytes. The rules are nginx's (1.22, the not-modified and range
/// filters), restated, not guessed.
///
/// Preconditions first:
/// - `If-Unmodified-Since` not at or after the file's time (or unreadable): 412.
/// - `If-Match` listing neither `*` nor the file's ETag (strong comparison): 412.
/// - `If-Modified-Since` equal to the file's time (nginx's default `if_modified_since
///   exact`) and/or `If-None-Match` listing `*` or the ETag (weak comparison), every one
///   of those sent agreeing: 304.
///
/// Then the Range:
/// - A header that does not start with `bytes=` (case-insensitive), or is shorter than
///   7 bytes, is ignored: the whole file is sent.
/// - `If-Range` that matches neither the file's ETag nor its Last-Modified: whole file.
/// - The list is read left to right; spaces (only spaces) may surround numbers and `-`.
///   Any other byte where a number, `-` or `,` belongs makes the whole header
///   unsatisfiable (416), as does a number past 2^63.
/// - A range with first ≥ size is skipped, except that one starting at 0 (an empty
///   file) means the whole file; a suffix `-N` takes the last N bytes (all when N ≥ size).
/// - No range left: 416.
public enum StaticReply {
    public enum Verdict: Equatable, Sendable {
        /// 200 with the whole file.
        case whole
        /// 206 (or, for ranges that add up past the size, 200 with the whole file).
        case partial
        /// 304: no byte.
        case notModified
        /// 412: no byte.
        case preconditionFailed
        /// 416: no byte.
        case unsatisfiable

        public var sendsBytes: Bool { self == .whole || self == .partial }
    }

    /// A stored file as nginx describes it.
    public struct File: Equatable, Sendable {
        public var size: Int64
        /// Modification time, Unix seconds.
        public var modified: Int64
        public init(size: Int64, modified: Int64) {
            self.size = size
            self.modified = modified
        }
        /// nginx's ETag for a static file: `"<mtime hex>-<size hex>"`.
        public var etag: String { "\"" + String(modified, radix: 16) + "-" + String(size, radix: 16) + "\"" }
        public var lastModified: String { DateTime.httpDate(modified) }
    }

    /// The request headers nginx's not-modified and range filters read (`If-Range` counts only
    /// with a `Range`).
    static let filterHeaders = ["if-unmodified-since", "if-match", "if-modified-since", "if-none-match", "range"]

    /// - Parameters:
    ///   - header: the request's header of that lower-case name, if any.
    ///   - describe: the file as nginx sees it; asked for only when a request carries one of
    ///     `filterHeaders` (most downloads carry none, and then no file is looked at).
    public static func verdict(header: (String) -> String?, file describe: () -> File) -> Verdict {
        guard filterHeaders.contains(where: { header($0) != nil }) else { return .whole }
        let file = describe()
        let etag = file.etag
        if let since = header("if-unmodified-since") {
            guard let t = DateTime.parseHTTPDate(since), t >= file.modified else { return .preconditionFailed }
        }
        if let list = header("if-match"), !listMatches(list, etag: etag, weak: false) { return .preconditionFailed }
        let ims = header("if-modified-since")
        let inm = header("if-none-match")
        if ims != nil || inm != nil {
            let unchangedSince = ims.map { DateTime.parseHTTPDate($0) == file.modified } ?? true
            let sameTag = inm.map { listMatches($0, etag: etag, weak: true) } ?? true
            if unchangedSince && sameTag { return .notModified }
        }
        switch ByteRanges.verdict(range: header("range"), ifRange: header("if-range"), size: file.size,
                                  etag: etag, lastModified: file.modified) {
        case .whole: return .whole
        case .partial: return .partial
        case .unsatisfiable: return .unsatisfiable
        }
    }

    /// `If-Match` / `If-None-Match`: `*`, or a comma list containing the ETag. The weak
    /// comparison (If-None-Match) ignores `W/` on either side.
    static func listMatches(_ list: String, etag: String, weak: Bool) -> Bool {
        if list == "*" { return true }
        let tag = Array(weak && etag.hasPrefix("W/") ? etag.utf8.dropFirst(2) : etag.utf8[...])
        for entry in list.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
            var candidate = entry.drop { $0 == 32 || $0 == 9 }
            while let last = candidate.last, last == 32 || last == 9 { candidate = candidate.dropLast() }
            if weak, candidate.starts(with: "W/".utf8) { candidate = candidate.dropFirst(2) }
            if candidate.elementsEqual(tag) { return true }
        }
        return false
    }
}

/// The Range part of `StaticReply`.
public enum ByteRanges {
    public enum Verdict: Equatable, Sendable {
        /// No usable Range: nginx sends the whole file.
        case whole
        /// nginx sends part (206) or, for ranges that add up past the size, the whole file.
        case partial
        /// nginx answers 416 and sends no byte.
        case unsatisfiable
    }

    /// - Parameters:
    ///   - range: the `Range` header, if any.
    ///   - ifRange: the `If-Range` header, if any.
    ///   - size: the file's size in bytes.
    ///   - etag / lastModified: the file's validators as nginx would send them.
    public static func verdict(range: String?, ifRange: String? = nil, size: Int64,
                               etag: String? = nil, lastModified: Int64? = nil) -> Verdict {
        guard let range else { return .whole }
        let bytes = Array(range.utf8)
        guard bytes.count >= 7, bytes[0..<6].map(lowercased) == Array("bytes=".utf8) else { return .whole }
        if let ifRange {
            if ifRange.utf8.count >= 2, ifRange.hasSuffix("\"") {
                guard let etag, ifRange == etag else { return .whole }
            } else {
                guard let lastModified, DateTime.parseHTTPDate(ifRange) == lastModified else { return .whole }
            }
        }
        return parse(bytes[6...], size: size)
    }

    private static func lowercased(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    private static let space = UInt8(ascii: " ")
    private static let dash = UInt8(ascii: "-")
    private static let comma = UInt8(ascii: ",")

    private static func parse(_ spec: ArraySlice<UInt8>, size: Int64) -> Verdict {
        var i = spec.startIndex
        let end = spec.endIndex
        func at(_ k: Int) -> UInt8? { k < end ? spec[k] : nil }
        func skipSpaces() { while at(i) == space { i += 1 } }
        /// Reads digits at `i`; nil on a value past Int64 (nginx: unsatisfiable).
        func number() -> Int64?? {
            guard let c = at(i), c >= 48, c <= 57 else { return .some(nil) }
            var value: Int64 = 0
            while let c = at(i), c >= 48, c <= 57 {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int64(c - 48))
                if o1 || o2 { return nil }
                value = sum
                i += 1
            }
            return .some(value)
        }
        var found = 0
        while true {
            var start: Int64 = 0
            var stop: Int64 = 0
            skipSpaces()
            var closed = false
            if at(i) != dash {
                guard let first = number(), let first else { return .unsatisfiable }
                start = first
                skipSpaces()
                guard at(i) == dash else { return .unsatisfiable }
                i += 1
                skipSpaces()
                if at(i) == comma || at(i) == nil {
                    stop = size
                    closed = true
                }
            } else {
                i += 1
                // A suffix: "-N".
                guard let last = number(), let last else { return .unsatisfiable }
                skipSpaces()
                guard at(i) == comma || at(i) == nil else { return .unsatisfiable }
                start = last < size ? size - last : 0
                stop = size
                closed = true
            }
            if !closed {
                guard let last = number(), let last else { return .unsatisfiable }
                skipSpaces()
                guard at(i) == comma || at(i) == nil else { return .unsatisfiable }
                stop = last >= size ? size : last + 1
            }
            if start < stop {
                found += 1
            } else if start == 0 {
                return .whole
            }
            guard at(i) == comma else { break }
            i += 1
        }
        return found == 0 ? .unsatisfiable : .partial
    }
}
