import Domain
import Support
import HTTPCore
import Store
#if canImport(Glibc)
import Glibc
#endif

/// One request, authenticated and routed: what an endpoint works with.
struct Call {
    let request: Request
    let principal: Principal
    let captures: [String: String]
    let params: Params
    let app: StoreApp

    var accountID: Int64 { principal.account.id }
    var page: Page {
        let p = Pagination(params)
        return Page(limit: p.perPage, offset: p.offset)
    }

    func capture(_ name: String) -> String { captures[name] ?? "" }
}

typealias Endpoint = @Sendable (Call) throws -> Response

/// A route of the store server: an API endpoint (credentials required) or a customer link.
enum StoreRoute: Sendable {
    case api(Endpoint)
    case open(DeliveryEndpoints.Public)
}

/// The store dialect: routes, authentication, and error mapping to `<message>`.
final class StoreApp {
    let db: SQLiteDatabase
    let settings: StoreSettings
    let accounts: AccountService
    let items: ItemService
    let uploads: UploadService
    let downloads: DownloadService
    let orders: OrderService
    let delivery: DeliveryService

    init(settings: StoreSettings) throws {
        self.settings = settings
        db = try SQLiteDatabase(path: settings.databasePath)
        accounts = AccountService(db: db)
        items = ItemService(db: db)
        uploads = UploadService(db: db, storage: settings.storage)
        downloads = DownloadService(db: db)
        orders = OrderService(db: db, linkBase: settings.publicURL)
        delivery = DeliveryService(db: db)
    }

    static let router: Router<StoreRoute> = {
        var api = APIRoutes(Router<StoreRoute>(suffixes: [".xml"]))
        AccountEndpoints.register(&api)
        ItemEndpoints.register(&api)
        UploadEndpoints.register(&api)
        DownloadEndpoints.register(&api)
        OrderEndpoints.register(&api)
        var r = api.router
        DeliveryEndpoints.register(&r)
        return r
    }()

    func handle(_ incoming: Request) -> Response {
        var request = incoming
        // The upload location buffers every body to a file; a small form/XML body there
        // (a client listing uploads with GET body parameters) is read back in.
        if let file = request.bodyFile, request.contentType != "multipart/form-data" {
            guard let bytes = BodyFile.readSmall(file, limit: settings.maxBodyBytes, inside: settings.bodyDirectory) else {
                return XMLViews.message("Request body is too large", status: 413)
            }
            request.body = bytes
            request.bodyFile = nil
        }
        if request.bodyTooLarge {
            return XMLViews.message("Request body is too large", status: 413)
        }
        let match: Router<StoreRoute>.Match
        let endpoint: Endpoint
        switch StoreApp.router.match(method: request.method, path: request.path) {
        case .found(let found):
            switch found.handler {
            case .open(let handler): return handler(request, found.captures, self)
            case .api(let handler): endpoint = handler
            }
            match = found
        case .notFound: return XMLViews.message("Not found", status: 404)
        case .methodNotAllowed(let allowed):
            var response = XMLViews.message("Method not allowed", status: 405)
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            return response
        }
        do {
            guard let credentials = Credentials.from(request),
                  let principal = try authenticate(credentials) else {
                var response = XMLViews.message("Unauthorized: send HTTP Basic key:token", status: 401)
                response.headers.append(("WWW-Authenticate", #"Basic realm="Fetchgate""#))
                return response
            }
            let params: Params
            do {
                params = try RequestInput.params(request)
            } catch {
                return XMLViews.message(error.message, status: 400)
            }
            return try endpoint(Call(request: request, principal: principal, captures: match.captures, params: params, app: self))
        } catch let error as DomainError {
            switch error {
            case .notFound(let message): return XMLViews.message(message, status: 404)
            case .unprocessable(let message): return XMLViews.message(message, status: 422)
            case .invalid(let message): return XMLViews.message(message, status: 400)
            }
        } catch let error as InputError {
            return XMLViews.message(error.message, status: 400)
        } catch {
            logError("store-api: \(request.method) \(request.path): \(error)")
            return XMLViews.message("Internal error", status: 500)
        }
    }

    private func authenticate(_ credentials: Credentials) throws -> Principal? {
        switch credentials {
        case .keyAndToken(let key, let token): return try accounts.authenticate(apiKey: key, token: token)
        case .token(let token): return try accounts.authenticate(apiKey: nil, token: token)
        }
    }
}

/// Registration of API endpoints: the REST verbs and `any` for command URIs.
struct APIRoutes {
    var router: Router<StoreRoute>
    init(_ router: Router<StoreRoute>) { self.router = router }
    mutating func get(_ pattern: String, _ e: @escaping Endpoint) { router.get(pattern, .api(e)) }
    mutating func post(_ pattern: String, _ e: @escaping Endpoint) { router.post(pattern, .api(e)) }
    mutating func put(_ pattern: String, _ e: @escaping Endpoint) { router.put(pattern, .api(e)) }
    mutating func delete(_ pattern: String, _ e: @escaping Endpoint) { router.delete(pattern, .api(e)) }
    mutating func any(_ pattern: String, _ e: @escaping Endpoint) { router.any(pattern, .api(e)) }
}

/// A field the client sent that cannot be read (bad number, bad date).
struct InputError: Error {
    let message: String
}
