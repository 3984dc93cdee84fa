import Dialect

/// What answers `GET|POST /fetch/metadata`: a URL that already passed the address policy in,
/// the normalised metadata JSON (`{"title", "duration", "uploader", "thumbnail", "webpage_url",
/// "extractor", "formats": […]}`) or a failure out. The yt-dlp runner under an egress guard,
/// with its time limit (504 `timeout`) and per-URL cache, is plugged in by
/// `FetchApp.metadataSource`; one source per request thread.
protocol MetadataSource {
    func metadata(url: String) -> Result<String, Failure>
}

extension FetchApp {
    /// The source this process uses; nil until the runner is joined in: the route answers 503.
    static func metadataSource(_ host: HostSettings) -> (any MetadataSource)? { nil }
}
