import Dialect
import Domain
import Support
import HTTPCore
import Store
#if canImport(Glibc)
import Glibc
#endif

typealias Endpoint = @Sendable (Call<StoreApp>) throws -> Response

/// A route of the store server: an API endpoint (credentials required) or a customer link.
enum StoreRoute: Sendable {
    case api(Endpoint)
    case open(DeliveryEndpoints.Public)
}

/// The store dialect: routes, authentication, and error mapping to `<message>`.
final class StoreApp {
    let db: any Database
    let settings: StoreSettings
    let accounts: AccountService
    let items: ItemService
    let uploads: UploadService
    let downloads: DownloadService
    let orders: OrderService
    let delivery: DeliveryService

    let gate: Gate<StoreRoute>

    init(settings: StoreSettings) throws {
        self.settings = settings
        gate = Gate(router: StoreApp.router, bodyDirectory: settings.bodyDirectory, maxBodyBytes: settings.maxBodyBytes)
        db = try Databases.open(url: settings.databaseURL)
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
        do {
            let admission = try gate.route(incoming)
            let endpoint: Endpoint
            switch admission.handler {
            case .open(let handler): return handler(admission.request, admission.captures, self)
            case .api(let handler): endpoint = handler
            }
            // Reading routes take one snapshot: the credential check and every query share it.
            return try db.snapshot(if: admission.readOnly) {
                let principal = try Gate<StoreRoute>.principal(admission.request, accounts: accounts)
                let params = try Gate<StoreRoute>.params(admission.request)
                return try endpoint(Call(request: admission.request, principal: principal, captures: admission.captures,
                                         params: params, app: self))
            }
        } catch {
            let failure = Failure(error)
            if failure.status == 500 { logError("store-api: \(incoming.method) \(incoming.path): \(error)") }
            return XMLViews.failure(failure)
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
