import Dialect
import Domain
import HTTPCore
import Outbound
import Support

typealias FilesEndpoint = Routes<FilesApp>.Endpoint

/// The Files dialect (seed 001): JSON, `X-API-KEY` / `?key=`.
final class FilesApp: App {
    typealias Wire = JSONWire
    static let name = "files-api"

    let context: AppContext
    let files: MediaFileService
    let policy: AddressPolicy

    init(_ context: AppContext) throws {
        guard context.host.signer != nil else { throw OptionError("--signing-secret-file is required") }
        self.context = context
        files = MediaFileService(db: context.db, storage: context.host.storage)
        policy = AddressPolicy(allowedPrivateHosts: context.host.allowedPrivateHosts)
    }

    static let routes: Routes<FilesApp> = {
        var r = Routes<FilesApp>()
        FileEndpoints.register(&r)
        return r
    }()
}
