/// `page` / `per_page` from query or body; per_page defaults to 25, at most 100.
public struct Pagination: Equatable, Sendable {
    public static let defaultPerPage = 25
    public static let maxPerPage = 100

    public var page: Int
    public var perPage: Int

    public init(page: Int = 1, perPage: Int = Pagination.defaultPerPage) {
        self.page = min(max(1, page), 10_000_000) // bounded so offsets never overflow
        self.perPage = min(max(1, perPage), Pagination.maxPerPage)
    }

    /// Reads `page` and `per_page`; values that are not positive integers fall back to defaults.
    public init(_ params: Params) {
        let page = params["page"]?.string.flatMap { Int($0.trimmingWhitespace) } ?? 1
        let perPage = params["per_page"]?.string.flatMap { Int($0.trimmingWhitespace) } ?? Pagination.defaultPerPage
        self.init(page: page, perPage: perPage)
    }

    public var offset: Int { (page - 1) * perPage }
}
