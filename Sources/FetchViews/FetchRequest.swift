import Domain
import HTTPCore
import Outbound

/// What both fetch dialects read from a create request (`url`, `quality`, `webhook_url`),
/// checked before anything is recorded: the quality against the one list, the URLs against
/// the address policy (the worker's egress guard checks every connection again).
public struct FetchRequest: Sendable {
    public let url: String
    public let quality: FetchQuality
    public let webhookURL: String?

    /// A refused request: a stable code (`bad_request`, `invalid_quality`, `url_not_allowed`,
    /// `webhook_url_not_allowed`) and a readable message. Always a 400.
    public struct Refusal: Error, Equatable, Sendable {
        public let code: String
        public let message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public static func read(_ params: Params, policy: AddressPolicy) throws(Refusal) -> FetchRequest {
        guard let url = params["url"]?.string?.trimmingWhitespace, !url.isEmpty else {
            throw Refusal(code: "bad_request", message: "url is required")
        }
        let quality = try quality(params)
        if let problem = problem(url, policy) { throw Refusal(code: "url_not_allowed", message: problem.message) }
        return FetchRequest(url: url, quality: quality, webhookURL: try webhookURL(params, policy: policy).get())
    }

    /// `quality`, one of the presets (default `best`); else `invalid_quality`.
    public static func quality(_ params: Params) throws(Refusal) -> FetchQuality {
        do { return try FetchQuality.parse(params["quality"]?.string ?? FetchQuality.best.rawValue) } catch {
            throw Refusal(code: "invalid_quality", message: (error as? DomainError)?.message ?? "quality must be one of: \(FetchQuality.valid)")
        }
    }

    /// `webhook_url` when given and allowed by the policy; else `webhook_url_not_allowed`.
    public static func webhookURL(_ params: Params, policy: AddressPolicy) -> Result<String?, Refusal> {
        guard let hook = params["webhook_url"]?.string?.trimmingWhitespace, !hook.isEmpty else { return .success(nil) }
        if let problem = problem(hook, policy) {
            return .failure(Refusal(code: "webhook_url_not_allowed", message: "webhook_url: " + problem.message))
        }
        return .success(hook)
    }

    /// Why the policy refuses `url` (as a Files error: the reason, never what a name resolves to); nil when allowed.
    public static func problem(_ url: String, _ policy: AddressPolicy) -> MediaFileError? {
        guard url.utf8.count <= FieldRules.maxURLBytes else { return MediaFileError(.invalidURL) }
        do {
            _ = try policy.check(url: url)
            return nil
        } catch let error as OutboundError {
            return switch error.reason {
            case .blockedAddress: MediaFileError(.blockedAddress)
            case .unresolvable: MediaFileError(.hostNotFound)
            default: MediaFileError(.invalidURL)
            }
        } catch {
            return MediaFileError(.invalidURL)
        }
    }
}
