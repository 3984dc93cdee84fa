import Formats
/// Parser for `application/x-www-form-urlencoded` bodies and query strings.
///
/// The result is always a `Params.object`. Keys may use Rails-style nesting
/// (`item[sku]`, `tags[]`, `order[items][][sku]`), including when the brackets
/// arrive percent-encoded (`item%5Bsku%5D`), because keys are decoded before
/// they are split into segments.
///
/// Semantics (those of Rack's `parse_nested_query`, made total):
/// - `+` is a space; `%XX` is a byte; an invalid escape is kept literally and
///   invalid UTF-8 is replaced with U+FFFD. Nothing ever throws or traps.
/// - Pairs are separated by `&`; empty pairs are skipped, as are pairs whose key
///   is empty. A key without `=` gets the empty string.
/// - A repeated plain key: the last value wins.
/// - `k[]=v` appends `v` to the array `k`.
/// - `k[][child]=v` appends to an array of objects: the value goes into the
///   last element unless that element already has `child` set, in which case a
///   new element is started.
/// - Type conflicts (`a=1&a[b]=2`, `a[]=1&a[b]=2`, ...) never fail: the later
///   pair replaces the earlier value with a container of the kind it needs.
///
/// Bounds: a body with more than `maxPairs` (20,000) non-empty pairs is refused
/// (`parseBody` throws `TooManyPairs`, which a dialect answers with 413); a query
/// string keeps its first `maxPairs` pairs (nginx's 8 KiB request line cannot carry
/// more). A form order can therefore carry as many items as an XML one. A key keeps at most `maxDepth` (32) bracket
/// segments after its base name and any further segments are ignored, so
/// `a[1]...[40]` is treated as `a[1]...[32]`.
public enum FormParser {
    public static let maxPairs = 20_000
    public static let maxDepth = 32

    /// A body with more than `maxPairs` non-empty pairs.
    public struct TooManyPairs: Error, Equatable, Sendable {}

    /// A request body: every pair or none (`TooManyPairs`). `limit` is for tests and
    /// fuzzing, which exercise the edge with small inputs.
    public static func parseBody(_ bytes: [UInt8], limit: Int = maxPairs) throws(TooManyPairs) -> Params {
        guard let params = bytes.withUnsafeBufferPointer({ parse(buffer: $0, limit: limit, strict: true) }) else { throw TooManyPairs() }
        return params
    }

    /// A query string: the first `limit` (`maxPairs`) pairs. Never fails.
    public static func parse(_ bytes: [UInt8], limit: Int = maxPairs) -> Params {
        bytes.withUnsafeBufferPointer { parse(buffer: $0, limit: limit, strict: false)! }
    }

    public static func parse(_ string: String) -> Params {
        var copy = string
        return copy.withUTF8 { parse(buffer: $0, limit: maxPairs, strict: false)! }
    }

    public static func parse(_ string: Substring) -> Params {
        var copy = string
        return copy.withUTF8 { parse(buffer: $0, limit: maxPairs, strict: false)! }
    }

    /// Whether the form text's bytes, `%XX` escapes decoded, are UTF-8. `parse` replaces what is
    /// not (it never fails); a request's input is refused instead (`RequestInput`), so no stored
    /// text ever holds a U+FFFD the client did not send.
    public static func decodesToUTF8(_ bytes: some Collection<UInt8>) -> Bool {
        if bytes.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "%") }) { return true }
        return String(validating: PercentEncoding.decodedBytes(bytes), as: UTF8.self) != nil
    }

    private static let amp = UInt8(ascii: "&")
    private static let equals = UInt8(ascii: "=")
    private static let open = UInt8(ascii: "[")
    private static let close = UInt8(ascii: "]")

    // MARK: - Pairs

    /// nil only when `strict` and the input holds more than `limit` pairs.
    private static func parse(buffer: UnsafeBufferPointer<UInt8>, limit: Int, strict: Bool) -> Params? {
        var root = ObjectNode()
        var pairs = 0
        var start = 0
        let count = buffer.count
        var keyBytes: [UInt8] = []
        while start < count {
            var end = start
            var eq = -1
            while end < count {
                let c = buffer[end]
                if c == amp { break }
                if c == equals && eq < 0 { eq = end }
                end += 1
            }
            if end > start {
                if pairs == limit {
                    if strict { return nil }
                    break
                }
                pairs += 1
                let keyEnd = eq < 0 ? end : eq
                let rawKey = buffer[start..<keyEnd]
                let value = eq < 0 ? "" : PercentEncoding.decode(buffer[(eq + 1)..<end], plusAsSpace: true)
                keyBytes.removeAll(keepingCapacity: true)
                PercentEncoding.decode(rawKey, plusAsSpace: true, into: &keyBytes)
                insert(key: keyBytes, value: value, into: &root)
            }
            start = end + 1
        }
        return root.params
    }

    // MARK: - Keys

    enum Segment: Equatable {
        case key(String)
        case append
    }

    /// Splits a decoded key into its base name and bracket segments.
    /// Returns nil when the key (or its base name) is empty.
    static func segments(of key: [UInt8]) -> (String, [Segment])? {
        key.withUnsafeBufferPointer { buf -> (String, [Segment])? in
            let n = buf.count
            var i = 0
            while i < n && buf[i] != open { i += 1 }
            // A key that starts with "[" has no base name: keep it literally.
            if i == 0 {
                return n == 0 ? nil : (String(decoding: buf, as: UTF8.self), [])
            }
            let base = String(decoding: buf[0..<i], as: UTF8.self)
            var segments: [Segment] = []
            while i < n && segments.count < maxDepth {
                let c = buf[i]
                if c == close {
                    i += 1  // stray "]"
                } else if c == open {
                    var j = i + 1
                    while j < n && buf[j] != close && buf[j] != open { j += 1 }
                    let closed = j < n && buf[j] == close
                    if j == i + 1 && !closed {
                        i += 1  // stray "[" (as in "a[[b]]" or a trailing "a[")
                        continue
                    }
                    segments.append(j == i + 1 ? .append : .key(String(decoding: buf[(i + 1)..<j], as: UTF8.self)))
                    i = closed ? j + 1 : j
                } else {
                    // Text after "]" without a new "[", e.g. "a[b]c": its own segment.
                    var j = i
                    while j < n && buf[j] != open && buf[j] != close { j += 1 }
                    segments.append(.key(String(decoding: buf[i..<j], as: UTF8.self)))
                    i = j
                }
            }
            return (base, segments)
        }
    }

    private static func insert(key: [UInt8], value: String, into root: inout ObjectNode) {
        guard let (base, segments) = segments(of: key) else { return }
        root.insert(key: base, path: segments[...], value: value)
    }
}

// MARK: - Builder tree

/// Mutable tree used while parsing; converted to `Params` once at the end.
/// Objects keep insertion order and get a hash index once they grow large, so
/// a hostile body with many distinct keys stays linear.
private enum Node {
    case leaf(String)
    case object(ObjectNode)
    case array([Node])

    var params: Params {
        switch self {
        case .leaf(let s): return .string(s)
        case .object(let o): return o.params
        case .array(let items): return .array(items.map { $0.params })
        }
    }

    static func empty(for segment: FormParser.Segment) -> Node {
        switch segment {
        case .key: return .object(ObjectNode())
        case .append: return .array([])
        }
    }

    /// Stores `value` at `path` (non-empty) below this node, converting this
    /// node to the container kind the first segment needs.
    mutating func insert(path: ArraySlice<FormParser.Segment>, value: String) {
        guard let first = path.first else {
            self = .leaf(value)
            return
        }
        switch first {
        case .key(let k):
            var object: ObjectNode
            if case .object(let existing) = self {
                object = existing
                self = .leaf("")  // drop our reference so `object` is uniquely owned
            } else {
                object = ObjectNode()
            }
            object.insert(key: k, path: path.dropFirst(), value: value)
            self = .object(object)
        case .append:
            var items: [Node]
            if case .array(let existing) = self {
                items = existing
                self = .leaf("")
            } else {
                items = []
            }
            let rest = path.dropFirst()
            if let next = rest.first {
                if case .key = next, let lastIndex = items.indices.last,
                   case .object(let last) = items[lastIndex], !last.has(path: rest) {
                    items[lastIndex].insert(path: rest, value: value)
                } else {
                    var fresh = Node.empty(for: next)
                    fresh.insert(path: rest, value: value)
                    items.append(fresh)
                }
            } else {
                items.append(.leaf(value))
            }
            self = .array(items)
        }
    }
}

private struct ObjectNode {
    var keys: [String] = []
    var values: [Node] = []
    var index: [String: Int]? = nil

    private static let indexThreshold = 16

    var params: Params {
        var members: [(String, Params)] = []
        members.reserveCapacity(keys.count)
        for i in keys.indices { members.append((keys[i], values[i].params)) }
        return .object(members)
    }

    func find(_ key: String) -> Int? {
        if let index { return index[key] }
        return keys.firstIndex(of: key)
    }

    mutating func insert(key: String, path: ArraySlice<FormParser.Segment>, value: String) {
        if path.isEmpty {
            if let i = find(key) {
                values[i] = .leaf(value)
            } else {
                append(key, .leaf(value))
            }
            return
        }
        let i: Int
        if let existing = find(key) {
            i = existing
        } else {
            append(key, Node.empty(for: path.first!))
            i = keys.count - 1
        }
        values[i].insert(path: path, value: value)
    }

    private mutating func append(_ key: String, _ node: Node) {
        keys.append(key)
        values.append(node)
        if index != nil {
            index![key] = keys.count - 1
        } else if keys.count > ObjectNode.indexThreshold {
            var built: [String: Int] = [:]
            built.reserveCapacity(keys.count * 2)
            for (i, k) in keys.enumerated() { built[k] = i }
            index = built
        }
    }

    /// Whether the nested key path (all `.key` segments) is already set.
    /// A path containing `[]` never counts as set (Rack semantics).
    func has(path: ArraySlice<FormParser.Segment>) -> Bool {
        guard case .key(let k)? = path.first, let i = find(k) else { return false }
        let rest = path.dropFirst()
        if rest.isEmpty { return true }
        guard case .object(let child) = values[i] else { return false }
        return child.has(path: rest)
    }
}
