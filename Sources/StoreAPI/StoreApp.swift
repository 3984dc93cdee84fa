import Dialect
import Domain
import HTTPCore
import Support

typealias Endpoint = Routes<StoreApp>.Endpoint

/// The store dialect (seed 004): XML, HTTP Basic `key:token`, REST verbs and command URIs,
/// and the customer links `/get/GUID` and `/permalink/GUID` (no credentials).
final class StoreApp: App {
    typealias Wire = XMLWire
    static let name = "store-api"
    static let options: [Option] = [
        Option("allow-signup", .flag, help: "answer POST /api/account/create without credentials (self-service accounts; default off: 404)"),
        Option("signup-limit", .integer(1...100_000), placeholder: "N",
               help: "sign-up attempts one client address may make per hour (default \(SignUpService.defaultLimit.attempts))"),
    ]

    let context: AppContext
    let items: ItemService
    let uploads: UploadService
    let downloads: DownloadService
    let orders: OrderService
    let delivery: DeliveryService
    /// nil unless `--allow-signup`.
    let signUps: SignUpService?

    init(_ context: AppContext) throws {
        self.context = context
        let db = context.db
        items = ItemService(db: db)
        uploads = UploadService(db: db, storage: context.host.storage)
        downloads = DownloadService(db: db)
        orders = OrderService(db: db, customerLink: CustomerLinks(base: context.host.publicURL).orderItem)
        delivery = DeliveryService(db: db)
        let arguments = context.host.arguments
        signUps = arguments.has("allow-signup")
            ? SignUpService(db: db, limit: arguments.int("signup-limit").map(SignUpService.Limit.perHour) ?? SignUpService.defaultLimit)
            : nil
    }

    static let routes: Routes<StoreApp> = {
        var r = Routes<StoreApp>(suffixes: [".xml"])
        AccountEndpoints.register(&r)
        ItemEndpoints.register(&r)
        UploadEndpoints.register(&r)
        DownloadEndpoints.register(&r)
        OrderEndpoints.register(&r)
        DeliveryEndpoints.register(&r)
        return r
    }()
}
