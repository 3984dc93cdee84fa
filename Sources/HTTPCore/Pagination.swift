/// `page` / `per_page` / `after` from query or body; per_page defaults to 25 and is capped by
/// the dialect (`maxPerPage`: 100 for the store's XML dialect, `maxJSONPerPage` for the JSON ones).
public struct Pagination: Equatable, Sendable {
    public static let defaultPerPage = 25
    public static let maxPerPage = 100
    /// The cap of the JSON dialects' list envelope.
    public static let maxJSONPerPage = 1000

    public var page: Int
    public var perPage: Int
    /// A keyset cursor (a list's `next_cursor`): the page starts after it, whatever `page` says.
    public var after: String?

    public init(page: Int = 1, perPage: Int = Pagination.defaultPerPage, after: String? = nil,
                maxPerPage: Int = Pagination.maxPerPage) {
        self.page = min(max(1, page), 10_000_000) // bounded so offsets never overflow
        self.perPage = min(max(1, perPage), maxPerPage)
        self.after = after
    }

    /// Reads `page`, `per_page` and `after`; values of `page`/`per_page` that are not positive
    /// integers fall back to defaults, an empty `after` counts as absent.
    public init(_ params: Params, maxPerPage: Int = Pagination.maxPerPage) {
        let page = params["page"]?.string.flatMap { Int($0.trimmingWhitespace) } ?? 1
        let perPage = params["per_page"]?.string.flatMap { Int($0.trimmingWhitespace) } ?? Pagination.defaultPerPage
        let after = params["after"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        self.init(page: page, perPage: perPage, after: after, maxPerPage: maxPerPage)
    }

    public var offset: Int { (page - 1) * perPage }
}
