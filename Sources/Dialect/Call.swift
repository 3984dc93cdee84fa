import Domain
import HTTPCore

/// One request, routed and authenticated: what an endpoint of any dialect works with.
public struct Call<A> {
    public let request: Request
    public let principal: Principal
    public let captures: [String: String]
    public let params: Params
    public let app: A

    public init(request: Request, principal: Principal, captures: [String: String], params: Params, app: A) {
        self.request = request
        self.principal = principal
        self.captures = captures
        self.params = params
        self.app = app
    }

    public var accountID: Int64 { principal.account.id }

    /// A path capture such as `:sku`; "" when absent.
    public func capture(_ name: String) -> String { captures[name] ?? "" }

    /// `page` / `per_page` from query or body.
    public var pagination: Pagination { Pagination(params) }

    /// `page` / `per_page` from query or body, as a domain page.
    public var page: Page {
        let p = pagination
        return Page(limit: p.perPage, offset: p.offset)
    }
}
