/// Method + path-pattern routing with `:name` captures.
///
/// A route's methods may be `nil`, meaning any method: the store dialect's command
/// URIs (`/api/items/:sku/delete`) answer GET, POST, PUT and DELETE alike.
/// Format suffixes (`.xml`, `.json`) are stripped before matching and reported.
public struct Router<Handler: Sendable>: Sendable {
    struct Route: Sendable {
        let methods: Set<String>?
        let segments: [Segment]
        let handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case capture(String)
    }

    public struct Match: Sendable {
        public let handler: Handler
        public let captures: [String: String]
        public let format: String?
    }

    public enum Outcome: Sendable {
        case found(Match)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var routes: [Route] = []
    public let suffixes: [String]

    public init(suffixes: [String] = []) {
        self.suffixes = suffixes
    }

    /// Adds a route. `methods == nil` accepts every method.
    public mutating func add(_ methods: [String]?, _ pattern: String, _ handler: Handler) {
        let segments = Router.split(pattern).map { part -> Segment in
            part.hasPrefix(":") ? .capture(String(part.dropFirst())) : .literal(String(part))
        }
        routes.append(Route(methods: methods.map { Set($0.map { $0.uppercased() }) }, segments: segments, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: Handler) { add(["GET", "HEAD"], pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: Handler) { add(["POST"], pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: Handler) { add(["PUT", "PATCH"], pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: Handler) { add(["DELETE"], pattern, handler) }
    public mutating func any(_ pattern: String, _ handler: Handler) { add(nil, pattern, handler) }

    /// Routes are tried in the order they were added; the first full match wins.
    public func match(method: String, path: String) -> Outcome {
        var path = Substring(path)
        var format: String?
        for suffix in suffixes where path.hasSuffix(suffix) && path.count > suffix.count {
            path = path.dropLast(suffix.count)
            format = String(suffix.dropFirst())
            break
        }
        let parts = Router.split(path)
        var allowed: [String] = []
        let method = method.uppercased()
        for route in routes where route.segments.count == parts.count {
            var captures: [String: String] = [:]
            var matched = true
            for (segment, part) in zip(route.segments, parts) {
                switch segment {
                case .literal(let literal):
                    if literal != part { matched = false }
                case .capture(let name):
                    if part.isEmpty { matched = false } else { captures[name] = String(part) }
                }
                if !matched { break }
            }
            guard matched else { continue }
            if let methods = route.methods, !methods.contains(method) {
                allowed.append(contentsOf: methods)
                continue
            }
            return .found(Match(handler: route.handler, captures: captures, format: format))
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: Array(Set(allowed)).sorted())
    }

    static func split<S: StringProtocol>(_ path: S) -> [Substring] {
        let trimmed = path.drop { $0 == "/" }
        if trimmed.isEmpty { return [] }
        var parts = Substring(trimmed).split(separator: "/", omittingEmptySubsequences: false)
        if parts.last == "" { parts.removeLast() } // tolerate one trailing slash
        return parts
    }
}
