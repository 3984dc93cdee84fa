import Dialect
import Egress
import Foundation
import Media
import Outbound
import Synchronization

/// What answers `GET|POST /fetch/metadata`: a URL that already passed the address policy in,
/// the normalised metadata JSON (`{"title", "duration", "uploader", "thumbnail", "webpage_url",
/// "extractor", "formats": […]}`) or a failure out.
protocol MetadataSource: Sendable {
    func metadata(url: String) -> Result<String, Failure>
}

extension FetchApp {
    /// One source for the whole process (its cache is shared by the request threads).
    static func metadataSource(_ host: HostSettings) -> (any MetadataSource)? {
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

/// yt-dlp's `-J` behind an egress guard of the call's own (every socket checked at connect
/// time, as for fetches), killed at the time limit (504 `timeout`); successes are kept for a
/// minute per URL (at most 256 URLs), so a UI that previews then fetches asks yt-dlp once.
final class YTDLPMetadataSource: MetadataSource {
    let ytdlp: YTDLP
    let policy: AddressPolicy
    let timeoutSeconds: Int
    static let cacheSeconds: Double = 60
    static let cacheEntries = 256
    private let cache = Mutex<[String: (json: String, expires: Date)]>([:])

    init(ytdlp: YTDLP, policy: AddressPolicy, timeoutSeconds: Int) {
        self.ytdlp = ytdlp
        self.policy = policy
        self.timeoutSeconds = timeoutSeconds
    }

    func metadata(url: String) -> Result<String, Failure> {
        let now = Date()
        if let hit = cache.withLock({ $0[url] }), hit.expires > now { return .success(hit.json) }
        let egress = EgressGuard(policy: policy)
        do { _ = try egress.start() } catch {
            return .failure(Failure(status: 503, code: "unavailable", message: "Media metadata is not available right now", retryAfter: 1))
        }
        let result = ytdlp.metadata(url: url, proxy: egress.proxyURL, allowGeneric: true, timeoutSeconds: timeoutSeconds)
        egress.stop()
        let refused = egress.refusals.contains { $0.reason == .blockedAddress }
        switch result {
        case .success(let metadata) where !refused:
            cache.withLock { entries in
                if entries.count >= YTDLPMetadataSource.cacheEntries { entries = entries.filter { $0.value.expires > now } }
                if entries.count < YTDLPMetadataSource.cacheEntries {
                    entries[url] = (metadata.json, now.addingTimeInterval(YTDLPMetadataSource.cacheSeconds))
                }
            }
            return .success(metadata.json)
        case .success:
            return .failure(Failure(status: 422, code: MediaFetchError.Code.blockedAddress.rawValue,
                                    message: "The page needs a non-public address, which is refused"))
        case .failure(let error):
            if refused {
                return .failure(Failure(status: 422, code: MediaFetchError.Code.blockedAddress.rawValue,
                                        message: "The page needs a non-public address, which is refused"))
            }
            return .failure(Failure(status: YTDLPMetadataSource.status(of: error.code), code: error.code.rawValue, message: error.message))
        }
    }

    /// 504 when the time limit ran out, 502 when the origin or yt-dlp failed, 422 for media that cannot be fetched.
    static func status(of code: MediaFetchError.Code) -> Int {
        switch code {
        case .timeout: 504
        case .network, .internal: 502
        default: 422
        }
    }
}
