import Dialect
import Domain
import HTTPCore
import Outbound
import Support

typealias DownloaderEndpoint = Routes<DownloaderApp>.Endpoint

/// The Downloader dialect (seed 003) on the media server: `/api/download…`, auth as the other
/// JSON dialects; with `--downloader-account KEY`, requests without any credentials act as
/// that key's account (private single-user installs; off by default: 401).
final class DownloaderApp: App {
    typealias Wire = DetailWire
    static let name = "downloader-api"
    static let options: [Option] = [
        Option("downloader-account", placeholder: "KEY",
               help: "API key whose account key-less requests act as (default: none, they get 401)"),
    ]

    let context: AppContext
    let fetches: FetchService
    let policy: AddressPolicy
    let keylessAccountKey: String?

    init(_ context: AppContext) throws {
        self.context = context
        fetches = FetchService(db: context.db, storage: context.host.storage)
        policy = AddressPolicy(allowedPrivateHosts: context.host.allowedPrivateHosts)
        keylessAccountKey = context.host.arguments["downloader-account"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The configured key's account while the key is valid; a revoked or unknown key serves no one.
    func principalWithoutCredentials() throws -> Principal? {
        guard let keylessAccountKey else { return nil }
        return try context.accounts.principal(apiKey: keylessAccountKey)
    }

    static let routes: Routes<DownloaderApp> = {
        var r = Routes<DownloaderApp>()
        DownloadEndpoints.register(&r)
        return r
    }()
}

/// Seed 003's wire: JSON replies, every failure `{"detail": "<message>"}` with its status.
enum DetailWire: WireFormat {
    static let acceptsMethodOverride = true

    static func failure(_ failure: Failure) -> Response {
        let message = failure.status == 401 ? "Not authenticated: send your API key in the X-API-KEY header" : failure.message
        var response = detail(message, status: failure.status)
        response.headers.append(contentsOf: failure.headers)
        return response
    }

    /// `{"detail": text}`, with `"id"` when given.
    static func detail(_ text: String, status: Int = 200, id: String? = nil) -> Response {
        JSONWire.reply(status: status) { w in
            w.beginObject()
            w.member("detail", text)
            if let id { w.member("id", id) }
            w.endObject()
        }
    }
}
