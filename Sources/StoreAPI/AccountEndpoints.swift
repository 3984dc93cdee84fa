import Dialect
import Domain
import HTTPCore

/// `/api/account`, `/api/new_token`, and the opt-in sign-up `/api/account/create`.
enum AccountEndpoints {
    static func register(_ r: inout Routes<StoreApp>) {
        r.any("/api/account") { call in
            XMLViews.account(call.principal.account, apiKey: call.principal.apiKey, token: call.principal.token)
        }
        r.any("/api/new_token") { call in
            // Conditional on the token presented: a concurrent rotation that won leaves this one 401.
            guard let token = try call.app.context.accounts.rotateToken(credentialID: call.principal.credentialID,
                                                                        replacing: call.principal.token) else {
                throw Failure.unauthorized
            }
            return XMLWire.message(token)
        }
        r.anonymous("/api/account/create") { request, params, app in
            try signUp(request, params, app)
        }
    }

    /// Without `--allow-signup`, exactly what an unknown route answers. With it: a POST (no
    /// credentials) with the FetchApp v1 body `<account><name/><first_name/><last_name/><email/><url/></account>`
    /// (or form fields, bare or as `account[…]`) answers 201 and the whole `<account>` with its new
    /// key and token; the client address is `REMOTE_ADDR` as nginx saw it, never a forwarded header.
    static func signUp(_ request: Request, _ params: Params, _ app: StoreApp) throws -> Response {
        guard let signUps = app.signUps else { throw Failure.routeNotFound }
        guard request.method == "POST" else {
            throw Failure(status: 405, code: "method_not_allowed", message: "Method not allowed", allow: ["POST"])
        }
        let fields = params["account"].flatMap { $0.isObject ? $0 : nil } ?? params
        func text(_ name: String) -> String { fields[name]?.string ?? "" }
        let input = SignUpService.SignUp(name: text("name"), email: text("email"), firstName: text("first_name"),
                                         lastName: text("last_name"), url: text("url"))
        let created: (Account, apiKey: String, token: String)
        do {
            created = try signUps.signUp(input, from: request.remoteAddress)
        } catch SignUpRefusal.tooManyAttempts(let seconds) {
            throw Failure(status: 429, code: "too_many_requests",
                          message: SignUpRefusal.tooManyAttempts(retryAfter: seconds).message, retryAfter: Int(seconds))
        }
        var response = XMLViews.account(created.0, apiKey: created.apiKey, token: created.token)
        response.status = 201
        return response
    }
}
