import Dialect
import HTTPCore

/// `/api/account` and `/api/new_token`.
enum AccountEndpoints {
    static func register(_ r: inout Routes<StoreApp>) {
        r.any("/api/account") { call in
            XMLViews.account(call.principal.account, principal: call.principal)
        }
        r.any("/api/new_token") { call in
            XMLWire.message(try call.app.context.accounts.rotateToken(credentialID: call.principal.credentialID))
        }
    }
}
