import HTTPCore

/// The `Allow` header of the 405s nginx answers by itself, as the dialects' routers would answer
/// them. nginx refuses TRACE on every path before any location runs (and a method other than
/// GET/HEAD on a static file); its reply must still name the methods the path takes (RFC 9110).
/// `fetchgate serve` reads each dialect's routes (`--routes`, `Host.routeLines`) and renders
/// them here as an nginx `map` from `$request_uri` to the list; a path no route matches gets
/// `fallback` (the static files': `GET, HEAD`).
public enum AllowMap {
    /// `map $request_uri $<variable> { default "<fallback>"; "~^/fetch/+[0-9A-Fa-f]{8}-…/?(?:[?]|$)" "DELETE, GET, HEAD"; … }`.
    /// Entries go most specific first (nginx takes the first regex that matches): fewer segments
    /// first, then, segment by segment, a literal before a UUID capture before any capture. An
    /// entry's list is the union of the methods of every route that matches all its paths (as the
    /// router collects them for a 405), sorted as the router sorts them.
    public static func nginxMap(variable: String, routeLines: [String], fallback: String = "GET, HEAD") -> String {
        var order: [String] = []
        var methods: [String: Set<String>] = [:]
        for line in routeLines {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[1].hasPrefix("/") else { continue }
            if methods[parts[1]] == nil { order.append(parts[1]) }
            methods[parts[1], default: []].formUnion(parts[0] == "ANY" ? anyMethods : [parts[0]])
        }
        let patterns = order.map { (pattern: $0, segments: segments($0)) }
            .enumerated().sorted { a, b in
                let (x, y) = (a.element.segments, b.element.segments)
                if x.count != y.count { return x.count < y.count }
                let (kx, ky) = (x.map(\.rank), y.map(\.rank))
                return kx != ky ? kx.lexicographicallyPrecedes(ky) : a.offset < b.offset
            }.map(\.element)
        var lines = ["    map $request_uri $\(variable) {", "        default \"\(fallback)\";"]
        for entry in patterns {
            var allowed = Set<String>()
            for other in patterns where subsumes(other.segments, entry.segments) {
                allowed.formUnion(methods[other.pattern] ?? [])
            }
            lines.append("        \"\(regex(entry.segments))\" \"\(allowed.sorted().joined(separator: ", "))\";")
        }
        lines.append("    }")
        return lines.joined(separator: "\n") + "\n"
    }

    /// What a route without a method list (`Router.any`) takes.
    static let anyMethods: Set<String> = ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]

    enum Segment: Equatable {
        case literal(String), uuid, any

        var rank: Int {
            switch self {
            case .literal: 0
            case .uuid: 1
            case .any: 2
            }
        }
    }

    /// `/fetch/:id(uuid)/:filename` → literal, uuid, any.
    static func segments(_ pattern: String) -> [Segment] {
        pattern.split(separator: "/").map { part in
            guard part.hasPrefix(":") else { return .literal(String(part)) }
            return part.hasSuffix("(uuid)") ? .uuid : .any
        }
    }

    /// Whether every path `specific` matches is also matched by `general`.
    static func subsumes(_ general: [Segment], _ specific: [Segment]) -> Bool {
        guard general.count == specific.count else { return false }
        for (g, s) in zip(general, specific) {
            switch (g, s) {
            case (.any, _): continue
            case (.uuid, .uuid): continue
            case (.uuid, .literal(let text)) where Router<Int>.isUUID(Substring(text)): continue
            case (.literal(let a), .literal(let b)) where a == b: continue
            default: return false
            }
        }
        return true
    }

    static let uuidRegex = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"

    /// The path as a raw request URI: repeated slashes allowed (nginx merges them), one trailing
    /// slash, then the query or the end. Literal characters other than letters, digits, `-` and `_`
    /// go in brackets, so no backslash reaches nginx's string parser.
    static func regex(_ segments: [Segment]) -> String {
        let body = segments.map { segment -> String in
            switch segment {
            case .literal(let text):
                return "/+" + text.map { c in c.isLetter && c.isASCII || c.isNumber && c.isASCII || c == "-" || c == "_" ? String(c) : "[\(c)]" }.joined()
            case .uuid: return "/+" + uuidRegex
            case .any: return "/+[^/?]+"
            }
        }.joined()
        return "~^" + (segments.isEmpty ? "/*" : body + "/?") + "(?:[?]|$)"
    }
}
