import HTTPCore

/// `/api/account` and `/api/new_token`.
enum AccountEndpoints {
    static func register(_ r: inout APIRoutes) {
        r.any("/api/account") { call in
            XMLViews.account(call.principal.account, principal: call.principal)
        }
        r.any("/api/new_token") { call in
            XMLViews.message(try call.app.accounts.rotateToken(credentialID: call.principal.credentialID))
        }
    }
}
