import Domain
import HTTPCore
import Store

/// What every dialect does before an endpoint runs: read a small buffered body back in,
/// refuse oversize bodies (413) and unreadable ones (400), apply a legacy method override, route,
/// authenticate, read the input. Failures come back as one `Failure` value that each dialect
/// renders in its wire format.
public enum Gate {
    public struct Admission<Handler> {
        public let request: Request
        public let handler: Handler
        public let captures: [String: String]
        /// A GET/HEAD-only route: its work may run in one read transaction.
        public let readOnly: Bool
    }

    /// Routes the request. Upload locations buffer every body to a file; a small form/XML
    /// body there (a client sending list parameters in a GET body) is read back in.
    public static func route<Handler>(_ incoming: Request, _ router: Router<Handler>, bodyDirectory: String, maxBodyBytes: Int,
                                      methodOverride: Bool) throws(Failure) -> Admission<Handler> {
        var request = incoming
        if let file = request.bodyFile, request.contentType != "multipart/form-data" {
            do {
                request.body = try BodyFile.readSmall(file, limit: maxBodyBytes, inside: bodyDirectory)
            } catch .tooLarge {
                throw .tooLarge
            } catch {
                throw .unreadableBody
            }
            request.bodyFile = nil
        }
        if request.bodyTooLarge { throw .tooLarge }
        if methodOverride, let method = overriddenMethod(request) { request.method = method }
        switch router.match(method: request.method, path: request.path) {
        case .found(let match):
            return Admission(request: request, handler: match.handler, captures: match.captures, readOnly: match.readOnly)
        case .notFound: throw Failure.routeNotFound
        case .methodNotAllowed(let allowed):
            throw Failure(status: 405, code: "method_not_allowed", message: "Method not allowed", allow: allowed)
        }
    }

    private static let methodField = Array("_method".utf8)

    /// Methods a POST may stand for.
    static let overridable: Set<String> = ["PUT", "PATCH", "DELETE"]

    /// For clients that send only GET and POST: a POST with `X-HTTP-Method-Override: DELETE`
    /// (or `_method=DELETE` in the query or a form body) is routed as a DELETE; likewise PUT and
    /// PATCH. Any other value leaves the POST a POST.
    static func overriddenMethod(_ request: Request) -> String? {
        guard request.method == "POST" else { return nil }
        var wanted = request.header("x-http-method-override")
        if wanted == nil, request.rawQuery.contains("_method") { wanted = request.query["_method"]?.string }
        // The body is parsed here only when it can hold the field, as is or percent-encoded
        // (params parse it again anyway).
        if wanted == nil, request.contentType == "application/x-www-form-urlencoded",
           request.body.contains(Gate.methodField) || request.body.contains(UInt8(ascii: "%")) {
            wanted = (try? FormParser.parseBody(request.body))?["_method"]?.string
        }
        guard let method = wanted?.trimmingWhitespace.uppercased(), overridable.contains(method) else { return nil }
        return method
    }

    /// The account behind the request's credentials (Basic key:token, X-API-KEY, ?key=); for a
    /// request without any, whom `otherwise` names (a dialect's key-less account), else 401.
    public static func principal(_ request: Request, accounts: AccountService,
                                 otherwise: () throws -> Principal? = { nil }) throws -> Principal {
        let principal: Principal?
        switch Credentials.from(request) {
        case .keyAndToken(let key, let token): principal = try accounts.authenticate(apiKey: key, token: token)
        case .token(let token): principal = try accounts.authenticate(apiKey: nil, token: token)
        case nil: principal = try otherwise()
        }
        guard let principal else { throw Failure.unauthorized }
        return principal
    }

    /// Query merged with the body (form or XML), or a 400 naming the problem.
    public static func params(_ request: Request) throws(Failure) -> Params {
        do { return try RequestInput.params(request) } catch {
            if error.tooLarge { throw Failure(status: 413, code: "payload_too_large", message: error.message) }
            throw Failure(status: 400, code: "bad_request", message: error.message)
        }
    }
}

/// A request that ends in an error: status, a machine code, a human message.
public struct Failure: Error, Equatable, Sendable {
    public let status: Int
    public let code: String
    public let message: String
    /// For 405: the methods the path does answer.
    public let allow: [String]
    /// For 503: seconds after which the same request may succeed (`Retry-After`).
    public let retryAfter: Int?

    public init(status: Int, code: String, message: String, allow: [String] = [], retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow
        self.retryAfter = retryAfter
    }

    /// The header lines every dialect sends with this failure (`Allow`, `Retry-After`).
    public var headers: [(String, String)] {
        var lines: [(String, String)] = []
        if !allow.isEmpty { lines.append(("Allow", allow.joined(separator: ", "))) }
        if let retryAfter { lines.append(("Retry-After", String(retryAfter))) }
        return lines
    }

    /// No route has the path.
    public static let routeNotFound = Failure(status: 404, code: "not_found", message: "Not found")
    public static let tooLarge = Failure(status: 413, code: "payload_too_large", message: "Request body is too large")
    /// The body was announced but could not be read back: the client may send it again.
    public static let unreadableBody = Failure(status: 400, code: "bad_request", message: "The request body could not be read")
    public static let unauthorized = Failure(status: 401, code: "unauthorized", message: "Missing or wrong credentials")
    /// The database stayed locked by another process past the busy timeout; nothing was done.
    public static let busy = Failure(status: 503, code: "busy", message: "The store is busy; nothing was changed. Try again in a moment.",
                                     retryAfter: 1)

    /// Input that cannot be read: a 400 naming the problem.
    public static func badRequest(_ message: String) -> Failure {
        Failure(status: 400, code: "bad_request", message: message)
    }

    /// Domain errors keep their message; a busy database is a 503 with `Retry-After`; other
    /// errors are internal (500, details only in the log).
    public init(_ error: any Error) {
        switch error {
        case let failure as Failure: self = failure
        case let database as any DatabaseError where database.isBusy: self = .busy
        case DomainError.notFound(let m): self.init(status: 404, code: "not_found", message: m)
        case DomainError.unprocessable(let m): self.init(status: 422, code: "unprocessable", message: m)
        case DomainError.invalid(let m): self.init(status: 400, code: "bad_request", message: m)
        default: self.init(status: 500, code: "internal", message: "Internal error")
        }
    }
}
