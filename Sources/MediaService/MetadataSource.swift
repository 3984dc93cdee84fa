import Dialect
import Domain
import Egress
import FetchViews
import Foundation
import HTTPCore
import Media
import Outbound
import Support
import Synchronization

/// What answers `GET|POST /fetch/metadata` (seed 000) and `POST /metadata` (seed 002): a URL
/// that already passed the address policy in, the normalised metadata JSON (`{"title",
/// "duration", "uploader", "thumbnail", "webpage_url", "extractor", "formats": […]}`) or a failure out.
public protocol MetadataSource: Sendable {
    func metadata(url: String) -> Result<String, Failure>
}

/// Expands a playlist page into its entries (at most `limit`, each an http(s) URL and its title
/// when known), under the egress guard: `YTDLPMetadataSource`, with the runner's `YTDLP.playlist`.
public protocol PlaylistSource: Sendable {
    func entries(url: String, limit: Int) -> Result<[(url: String, title: String?)], Failure>
}

/// A fetch's stored file as both dialects hand it out: 302 to a short-lived signed link (as
/// Files downloads), or `notReady` while the fetch has no file here.
public enum FetchDownload {
    public static func redirect(_ fetch: Fetch, host: HostSettings, params: Params, notReady: (Fetch) -> Failure) throws -> Response {
        guard fetch.status == .success, let key = fetch.storageKey, let filename = fetch.filename else { throw notReady(fetch) }
        return try SignedDownload.redirect(host, key: key, filename: filename,
                                           contentType: fetch.contentType ?? ContentTypes.guess(filename: filename), params: params)
    }
}

/// The metadata endpoint both dialects answer (`/fetch/metadata`, `/metadata`).
public enum MetadataEndpoint {
    /// `url` (query or body): checked against the address policy first (400 `url_not_allowed`),
    /// then asked of `source` (nil: 503 `unavailable`); the source's JSON is the 200 reply.
    public static func answer(_ params: Params, policy: AddressPolicy, source: (any MetadataSource)?) throws -> Response {
        guard let url = params["url"]?.string?.trimmingWhitespace, !url.isEmpty else {
            throw Failure.badRequest("url is required")
        }
        if let problem = FetchRequest.problem(url, policy) {
            throw Failure(status: 400, code: "url_not_allowed", message: problem.message)
        }
        guard let source else {
            throw Failure(status: 503, code: "unavailable", message: "Media metadata is not available on this server")
        }
        switch source.metadata(url: url) {
        case .success(let json):
            return Response(status: 200, headers: [("Content-Type", "application/json")], body: Array(json.utf8))
        case .failure(let failure):
            throw failure
        }
    }
}

extension YTDLPMetadataSource {
    /// The options of a dialect that answers metadata (its own `App.options`).
    public static let options: [Option] = [
        Option("yt-dlp", placeholder: "PATH", help: "yt-dlp for metadata (default: the checkout's .venv/bin/yt-dlp, else yt-dlp on PATH)"),
        Option("metadata-timeout", .integer(1...100_000), placeholder: "SECONDS", help: "time limit of a metadata call (default 30)"),
    ]

    /// One source for the whole process (its cache is shared by the request threads).
    public static func shared(_ host: HostSettings) -> YTDLPMetadataSource {
        sharedSource.withLock { source in
            if let source { return source }
            let made = YTDLPMetadataSource(
                ytdlp: YTDLP(executable: host.arguments["yt-dlp"] ?? YTDLP.defaultExecutable(near: CommandLine.arguments[0])),
                policy: AddressPolicy(allowedPrivateHosts: host.allowedPrivateHosts),
                timeoutSeconds: host.arguments.int("metadata-timeout") ?? 30)
            source = made
            return made
        }
    }

    private static let sharedSource = Mutex<YTDLPMetadataSource?>(nil)
}

/// yt-dlp's `-J` (metadata) and `--flat-playlist -J` (playlists) behind an egress guard of the
/// call's own (every socket checked at connect time, as for fetches), killed at the time limit
/// (504 `timeout`); metadata successes are kept for a minute per URL (at most 256 URLs), so a UI
/// that previews then fetches asks yt-dlp once.
public final class YTDLPMetadataSource: MetadataSource, PlaylistSource {
    let ytdlp: YTDLP
    let policy: AddressPolicy
    let timeoutSeconds: Int
    static let cacheSeconds: Double = 60
    static let cacheEntries = 256
    private let cache = Mutex<[String: (json: String, expires: Date)]>([:])

    public init(ytdlp: YTDLP, policy: AddressPolicy, timeoutSeconds: Int) {
        self.ytdlp = ytdlp
        self.policy = policy
        self.timeoutSeconds = timeoutSeconds
    }

    public func metadata(url: String) -> Result<String, Failure> {
        let now = Date()
        if let hit = cache.withLock({ $0[url] }), hit.expires > now { return .success(hit.json) }
        let result = guarded { proxy in ytdlp.metadata(url: url, proxy: proxy, allowGeneric: true, timeoutSeconds: timeoutSeconds) }
        if case .success(let metadata) = result {
            cache.withLock { entries in
                if entries.count >= YTDLPMetadataSource.cacheEntries { entries = entries.filter { $0.value.expires > now } }
                if entries.count < YTDLPMetadataSource.cacheEntries {
                    entries[url] = (metadata.json, now.addingTimeInterval(YTDLPMetadataSource.cacheSeconds))
                }
            }
        }
        return result.map(\.json)
    }

    /// Runs `body` (a yt-dlp call given the proxy to use) behind an egress guard of its own; a
    /// refusal by the guard, whatever yt-dlp made of it, is 422 `blocked_address`.
    func guarded<T>(_ body: (String) -> Result<T, MediaFetchError>) -> Result<T, Failure> {
        let egress = EgressGuard(policy: policy)
        do { _ = try egress.start() } catch {
            return .failure(Failure(status: 503, code: "unavailable", message: "Media lookups are not available right now", retryAfter: 1))
        }
        let result = body(egress.proxyURL)
        egress.stop()
        if !egress.blocked.isEmpty {
            return .failure(Failure(status: 422, code: MediaFetchError.Code.blockedAddress.rawValue,
                                    message: "The page needs a non-public address, which is refused"))
        }
        return result.mapError { Failure(status: YTDLPMetadataSource.status(of: $0.code), code: $0.code.rawValue, message: $0.message) }
    }

    /// A playlist's entries (`--flat-playlist`), under the guard and the same time limit.
    public func entries(url: String, limit: Int) -> Result<[(url: String, title: String?)], Failure> {
        guarded { proxy in ytdlp.playlist(url: url, limit: limit, proxy: proxy, timeoutSeconds: timeoutSeconds) }
            .map { $0.map { (url: $0.url, title: $0.title) } }
    }

    /// 504 when the time limit ran out, 502 when the origin or yt-dlp failed, 422 for media that cannot be fetched.
    public static func status(of code: MediaFetchError.Code) -> Int {
        switch code {
        case .timeout: 504
        case .network, .internal: 502
        default: 422
        }
    }
}
