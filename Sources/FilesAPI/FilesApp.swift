import Dialect
import Domain
import HTTPCore
import Outbound
import Store
import Support
#if canImport(Glibc)
import Glibc
#endif

typealias FilesEndpoint = @Sendable (Call<FilesApp>) throws -> Response

/// The Files dialect (seed 001): JSON, `X-API-KEY` / `?key=`.
final class FilesApp {
    let db: any Database
    let settings: FilesSettings
    let accounts: AccountService
    let files: MediaFileService
    let policy: AddressPolicy
    let gate: Gate<FilesEndpoint>

    init(settings: FilesSettings) throws {
        self.settings = settings
        gate = Gate(router: FilesApp.router, bodyDirectory: settings.bodyDirectory, maxBodyBytes: settings.maxBodyBytes)
        db = try Databases.open(url: settings.databaseURL)
        accounts = AccountService(db: db)
        files = MediaFileService(db: db, storage: settings.storage)
        policy = AddressPolicy(allowedPrivateHosts: settings.allowedPrivateHosts)
    }

    static let router: Router<FilesEndpoint> = {
        var r = Router<FilesEndpoint>(suffixes: [])
        FileEndpoints.register(&r)
        return r
    }()

    func handle(_ incoming: Request) -> Response {
        do {
            let admission = try gate.route(incoming)
            // Reading routes take one snapshot: the credential check and every query share it.
            return try db.snapshot(if: admission.readOnly) {
                let principal = try Gate<FilesEndpoint>.principal(admission.request, accounts: accounts)
                let params = try Gate<FilesEndpoint>.params(admission.request)
                return try admission.handler(Call(request: admission.request, principal: principal,
                                                  captures: admission.captures, params: params, app: self))
            }
        } catch {
            let failure = Failure(error)
            if failure.status == 500 { logError("files-api: \(incoming.method) \(incoming.path): \(error)") }
            return JSONViews.failure(failure)
        }
    }
}
