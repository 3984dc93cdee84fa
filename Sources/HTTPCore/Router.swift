/// Method + path-pattern routing with `:name` captures. A capture written `:name(uuid)` takes
/// only a UUID (8-4-4-4-12 hex digits): any other segment there matches no route, so a path that
/// can name no resource is a 404 before credentials are asked for.
///
/// A route's methods may be `nil`, meaning any method: the store dialect's command
/// URIs (`/api/items/:sku/delete`) answer GET, POST, PUT and DELETE alike.
/// Format suffixes (`.xml`, `.json`) are stripped before matching.
/// Routes are bucketed by segment count, so a request is compared only with routes of
/// its own length. Within a bucket the most specific route wins, whatever the order of
/// registration: segments are compared left to right and a literal beats a capture
/// (`/api/items/create` beats `/api/items/:sku`). Routes of equal specificity keep the
/// order they were added in.
public struct Router<Handler: Sendable>: Sendable {
    struct Route: Sendable {
        let methods: [String]?
        let segments: [Segment]
        let handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case capture(String, Shape)
    }

    /// What a capture takes.
    enum Shape: Sendable, Equatable {
        case any, uuid

        func admits(_ part: Substring) -> Bool {
            switch self {
            case .any: return !part.isEmpty
            case .uuid: return Router.isUUID(part)
            }
        }
    }

    public struct Match: Sendable {
        public let handler: Handler
        public let captures: [String: String]
        /// The route answers only GET/HEAD: by HTTP's rules it only reads.
        public let readOnly: Bool
    }

    public enum Outcome: Sendable {
        case found(Match)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var buckets: [[Route]] = []
    public let suffixes: [String]

    public init(suffixes: [String] = []) {
        self.suffixes = suffixes
    }

    /// Adds a route. `methods == nil` accepts every method.
    public mutating func add(_ methods: [String]?, _ pattern: String, _ handler: Handler) {
        let segments = Router.split(pattern).map { part -> Segment in
            guard part.hasPrefix(":") else { return .literal(String(part)) }
            if part.hasSuffix("(uuid)") { return .capture(String(part.dropFirst().dropLast(6)), .uuid) }
            return .capture(String(part.dropFirst()), .any)
        }
        while buckets.count <= segments.count { buckets.append([]) }
        let route = Route(methods: methods.map { $0.map { $0.uppercased() } }, segments: segments, handler: handler)
        // Kept sorted, most specific first; a new route goes after every route at least as specific.
        let bucket = buckets[segments.count]
        let index = bucket.firstIndex { Router.moreSpecific(route.segments, than: $0.segments) } ?? bucket.endIndex
        buckets[segments.count].insert(route, at: index)
    }

    /// Whether `a` is strictly more specific than `b` (same length): at the first segment
    /// where one is a literal and the other a capture, the literal wins.
    static func moreSpecific(_ a: [Segment], than b: [Segment]) -> Bool {
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (.literal, .capture): return true
            case (.capture, .literal): return false
            default: continue
            }
        }
        return false
    }

    public mutating func get(_ pattern: String, _ handler: Handler) { add(["GET", "HEAD"], pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: Handler) { add(["POST"], pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: Handler) { add(["PUT", "PATCH"], pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: Handler) { add(["DELETE"], pattern, handler) }
    public mutating func any(_ pattern: String, _ handler: Handler) { add(nil, pattern, handler) }

    /// One registered route as written: its methods (nil: any method) and its pattern
    /// (`/fetch/:id(uuid)`), in matching order (shorter paths first, most specific first).
    public struct Listed: Sendable, Equatable {
        public let methods: [String]?
        public let pattern: String
    }

    /// Every route, for documentation checks (`--routes` of each dialect executable).
    public var routes: [Listed] {
        buckets.flatMap { $0 }.map { route in
            let parts = route.segments.map { segment -> String in
                switch segment {
                case .literal(let literal): return literal
                case .capture(let name, .any): return ":" + name
                case .capture(let name, .uuid): return ":" + name + "(uuid)"
                }
            }
            return Listed(methods: route.methods, pattern: "/" + parts.joined(separator: "/"))
        }
    }

    /// The most specific route whose pattern and method match.
    public func match(method: String, path: String) -> Outcome {
        var path = Substring(path)
        for suffix in suffixes where path.hasSuffix(suffix) && path.count > suffix.count {
            path = path.dropLast(suffix.count)
            break
        }
        let parts = Router.split(path)
        guard parts.count < buckets.count else { return .notFound }
        var allowed: [String] = []
        routes: for route in buckets[parts.count] {
            for i in 0..<parts.count {
                switch route.segments[i] {
                case .literal(let literal): if literal != parts[i] { continue routes }
                case .capture(_, let shape): if !shape.admits(parts[i]) { continue routes }
                }
            }
            if let methods = route.methods, !methods.contains(method) {
                allowed.append(contentsOf: methods)
                continue
            }
            var captures: [String: String] = [:]
            for i in 0..<parts.count {
                if case .capture(let name, _) = route.segments[i] { captures[name] = String(parts[i]) }
            }
            let readOnly = route.methods.map { $0.allSatisfy { $0 == "GET" || $0 == "HEAD" } } ?? false
            return .found(Match(handler: route.handler, captures: captures, readOnly: readOnly))
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: Array(Set(allowed)).sorted())
    }

    /// 8-4-4-4-12 hexadecimal digits (either case).
    public static func isUUID(_ part: Substring) -> Bool {
        let utf8 = part.utf8
        guard utf8.count == 36 else { return false }
        for (i, c) in utf8.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else if Hex.value(c) == nil {
                return false
            }
        }
        return true
    }

    /// Path segments without leading slashes; one trailing slash is tolerated.
    static func split<S: StringProtocol>(_ path: S) -> [Substring] {
        let whole = Substring(path)
        let utf8 = whole.utf8
        var parts: [Substring] = []
        parts.reserveCapacity(6)
        var i = utf8.startIndex
        while i != utf8.endIndex && utf8[i] == UInt8(ascii: "/") { i = utf8.index(after: i) }
        if i == utf8.endIndex { return [] }
        var start = i
        while i != utf8.endIndex {
            if utf8[i] == UInt8(ascii: "/") {
                parts.append(whole[start..<i])
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if start != utf8.endIndex { parts.append(whole[start..<utf8.endIndex]) }
        return parts
    }
}
