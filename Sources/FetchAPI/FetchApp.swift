import Dialect
import Domain
import HTTPCore
import MediaService
import Outbound
import Support

typealias FetchEndpoint = Routes<FetchApp>.Endpoint

/// The Fetch dialect (seed 000): JSON, `X-API-KEY` / `?key=`, on the media server.
final class FetchApp: App {
    typealias Wire = JSONWire
    static let name = "fetch-api"
    static let options: [Option] = YTDLPMetadataSource.options

    let context: AppContext
    let fetches: FetchService
    let policy: AddressPolicy
    /// What answers `/fetch/metadata` (yt-dlp behind an egress guard); nil: the route answers 503 `unavailable`.
    let metadata: (any MetadataSource)?

    init(_ context: AppContext) throws {
        guard context.host.signer != nil else { throw OptionError("--signing-secret-file is required") }
        self.context = context
        fetches = FetchService(db: context.db, storage: context.host.storage)
        policy = AddressPolicy(allowedPrivateHosts: context.host.allowedPrivateHosts)
        metadata = YTDLPMetadataSource.shared(context.host)
    }

    static let routes: Routes<FetchApp> = {
        var r = Routes<FetchApp>()
        FetchEndpoints.register(&r)
        return r
    }()
}
