import Dialect
import Domain
import HTTPCore
import Outbound
import Support

typealias FetchEndpoint = Routes<FetchApp>.Endpoint

/// The Fetch dialect (seed 000): JSON, `X-API-KEY` / `?key=`, on the media server.
final class FetchApp: App {
    typealias Wire = JSONWire
    static let name = "fetch-api"
    static let options: [Option] = [
        Option("yt-dlp", placeholder: "PATH", help: "yt-dlp for /fetch/metadata (default: the checkout's .venv/bin/yt-dlp, else yt-dlp on PATH)"),
        Option("metadata-timeout", .integer(1...100_000), placeholder: "SECONDS", help: "time limit of /fetch/metadata (default 30)"),
    ]

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
        metadata = FetchApp.metadataSource(context.host)
    }

    static let routes: Routes<FetchApp> = {
        var r = Routes<FetchApp>()
        FetchEndpoints.register(&r)
        return r
    }()
}
