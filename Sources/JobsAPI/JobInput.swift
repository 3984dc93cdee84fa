import Dialect
import Domain
import FetchViews
import HTTPCore
import Outbound

/// What `POST /jobs` and `POST /jobs/bulk` read besides the URLs: the quality preset, the typed
/// options (`format`, `audio_only`, `max_resolution`, `start_time`/`end_time`, `subtitles` +
/// `subtitle_mode`, `filename`), `webhook_url` and `paused`. Each is typed and validated here and
/// by `FetchOptions.validate`; an unknown value is a 400 naming the field, never passed on.
struct JobInput {
    var quality: FetchQuality
    var options: FetchOptions
    var webhookURL: String?
    var paused: Bool

    static func read(_ params: Params, policy: AddressPolicy) throws -> JobInput {
        let webhookURL: String?
        switch FetchRequest.webhookURL(params, policy: policy) {
        case .success(let url): webhookURL = url
        case .failure(let refusal): throw Failure(status: 400, code: refusal.code, message: refusal.message)
        }
        var options = FetchOptions()
        let (quality, height) = try quality(params)
        options.maxHeight = height
        if let text = try string(params, "max_resolution") {
            guard let value = JobInput.height(text) else {
                throw invalid("max_resolution must be one of \(FetchOptions.allowedHeights.map(String.init).joined(separator: ", "))")
            }
            options.maxHeight = value
        }
        if let text = try string(params, "format") {
            guard let format = FetchOptions.Container(rawValue: text) else {
                throw invalid("format must be one of: \(FetchOptions.Container.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.format = format
        }
        options.audioOnly = try bool(params, "audio_only") ?? false
        options.clipStart = try seconds(params, "start_time")
        options.clipEnd = try seconds(params, "end_time")
        options.subtitles = try languages(params["subtitles"])
        if let text = try string(params, "subtitle_mode") {
            guard let mode = FetchOptions.SubtitleMode(rawValue: text) else { throw invalid("subtitle_mode must be embed or sidecar") }
            options.subtitleMode = mode
        }
        options.filename = try string(params, "filename")
        do { try options.validate() } catch let error as DomainError { throw invalid(error.message) }
        return JobInput(quality: quality, options: options, webhookURL: webhookURL, paused: try bool(params, "paused") ?? false)
    }

    /// `quality`: a preset (`best, 1080p, 720p, 480p, 360p, audio, mp4`), or a height the presets
    /// lack (`2160p`, `1440p`, `240p`, `144p`), which means `best` under that height.
    static func quality(_ params: Params) throws -> (FetchQuality, Int?) {
        guard let text = try string(params, "quality") else { return (.best, nil) }
        if let preset = FetchQuality(rawValue: text) { return (preset, nil) }
        if let height = height(text) { return (.best, height) }
        throw Failure(status: 400, code: "invalid_quality", message: "quality must be one of: \(FetchQuality.valid), or a height: "
                      + FetchOptions.allowedHeights.map { "\($0)p" }.joined(separator: ", "))
    }

    /// `720` or `720p`, one of `FetchOptions.allowedHeights`.
    static func height(_ text: String) -> Int? { OptionText.height(text, allowed: FetchOptions.allowedHeights) }

    /// A string member; nil when absent, null or empty; any other JSON value (an array, an object) is a 400.
    static func string(_ params: Params, _ name: String) throws -> String? {
        switch params[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        default: throw invalid("\(name) must be a string")
        }
    }

    /// `true`/`false` (a JSON boolean, or `1`/`0` from a form).
    static func bool(_ params: Params, _ name: String) throws -> Bool? {
        guard let text = try string(params, name) else { return nil }
        guard let value = OptionText.bool(text) else { throw invalid("\(name) must be true or false") }
        return value
    }

    /// Seconds as a number (`12.5`) or a clock time (`1:02:03.5`, `02:03`).
    static func seconds(_ params: Params, _ name: String) throws -> Double? {
        guard let text = try string(params, name) else { return nil }
        guard let value = OptionText.seconds(text) else { throw invalid("\(name) must be seconds (12.5) or a time (1:02:03.5)") }
        return value
    }

    /// `["en", "pt-BR"]` or `"en,pt-BR"`.
    static func languages(_ value: Params?) throws -> [String] {
        switch value {
        case nil, .null?: return []
        case .string(let text)?: return OptionText.list(text)
        case .array(let items)?:
            guard items.count <= FetchOptions.maxSubtitleLanguages else {
                throw invalid("subtitles takes at most \(FetchOptions.maxSubtitleLanguages) languages")
            }
            return try items.map { item in
                guard let text = item.string else { throw invalid("subtitles must be a list of language codes") }
                return text
            }
        default: throw invalid("subtitles must be a list of language codes")
        }
    }

    static func invalid(_ message: String) -> Failure { Failure(status: 400, code: "invalid_option", message: message) }

    /// A URL the policy allows (400 `url_not_allowed` naming `field` otherwise).
    static func url(_ text: String, field: String, policy: AddressPolicy) throws -> String {
        let url = text.trimmingWhitespace
        guard !url.isEmpty else { throw Failure.badRequest("\(field) is required") }
        if let problem = FetchRequest.problem(url, policy) {
            throw Failure(status: 400, code: "url_not_allowed", message: "\(field): " + problem.message)
        }
        return url
    }
}
