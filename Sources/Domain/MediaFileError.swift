/// Why a Files API file failed, is waiting for a retry, or has no probe: a stable code and a
/// readable message. A tool's or library's own text (ffprobe's stderr, which names the stored
/// file's path; curl's messages; resolver answers) never reaches a reply: the worker writes it
/// to its log and stores only the code, in `media_files.error` (import/processing) and
/// `media_files.ffprobe_error` (probe). Replies render the message and the code from the table
/// below, so whatever a column holds, no other text can come out of it.
///
/// | code | message |
/// |---|---|
/// | `invalid_url` | The URL is not a valid http or https URL |
/// | `blocked_address` | The URL leads to an address that may not be fetched |
/// | `host_not_found` | The URL's host name could not be resolved |
/// | `network` | The origin could not be reached |
/// | `timeout` | The download did not finish within the time limit |
/// | `too_large` | The file is larger than the import size limit |
/// | `too_many_redirects` | The URL redirected too many times |
/// | `http_status` | The origin answered HTTP <status> |
/// | `empty_file` | The URL returned an empty file |
/// | `storage_failed` | The file could not be stored |
/// | `processing_failed` | The file could not be processed |
/// | `not_media` | The file is not a recognised audio or video format |
/// | `probe_timeout` | Probing the file took longer than the time limit |
/// | `probe_failed` | The file could not be probed |
public struct MediaFileError: Error, Equatable, Sendable {
    public enum Code: String, CaseIterable, Sendable {
        case invalidURL = "invalid_url"
        case blockedAddress = "blocked_address"
        case hostNotFound = "host_not_found"
        case network
        case timeout
        case tooLarge = "too_large"
        case tooManyRedirects = "too_many_redirects"
        case httpStatus = "http_status"
        case emptyFile = "empty_file"
        case storageFailed = "storage_failed"
        case processingFailed = "processing_failed"
        case notMedia = "not_media"
        case probeTimeout = "probe_timeout"
        case probeFailed = "probe_failed"
    }

    public let code: Code
    /// The origin's status, for `http_status` only (100…599).
    public let httpStatus: Int?

    public init(_ code: Code, httpStatus: Int? = nil) {
        self.code = code
        self.httpStatus = code == .httpStatus ? httpStatus.flatMap { (100...599).contains($0) ? $0 : nil } : nil
    }

    public static func httpStatus(_ status: Int) -> MediaFileError { MediaFileError(.httpStatus, httpStatus: status) }

    public var message: String {
        switch code {
        case .invalidURL: "The URL is not a valid http or https URL"
        case .blockedAddress: "The URL leads to an address that may not be fetched"
        case .hostNotFound: "The URL's host name could not be resolved"
        case .network: "The origin could not be reached"
        case .timeout: "The download did not finish within the time limit"
        case .tooLarge: "The file is larger than the import size limit"
        case .tooManyRedirects: "The URL redirected too many times"
        case .httpStatus: httpStatus.map { "The origin answered HTTP \($0)" } ?? "The origin answered with an error status"
        case .emptyFile: "The URL returned an empty file"
        case .storageFailed: "The file could not be stored"
        case .processingFailed: "The file could not be processed"
        case .notMedia: "The file is not a recognised audio or video format"
        case .probeTimeout: "Probing the file took longer than the time limit"
        case .probeFailed: "The file could not be probed"
        }
    }

    /// What the store keeps: the code, and for `http_status` the status after a space (`http_status 404`).
    public var stored: String {
        httpStatus.map { "\(code.rawValue) \($0)" } ?? code.rawValue
    }

    /// Reads a stored value back. Anything that is not a stored code (a row written before
    /// codes existed holds raw tool text) becomes `fallback`, or the code its old wording
    /// meant; that text itself is never returned.
    public init(stored: String, fallback: Code) {
        // The common case, read once per listed file: a bare code.
        if let code = MediaFileError.codes[stored] {
            self.init(code)
            return
        }
        let parts = stored.split(separator: " ", maxSplits: 1).map(String.init)
        if let first = parts.first, let code = Code(rawValue: first) {
            if parts.count == 1 {
                self.init(code)
                return
            }
            if code == .httpStatus, let status = Int(parts[1]) {
                self.init(code, httpStatus: status)
                return
            }
        }
        self.init(MediaFileError.legacyCode(stored) ?? fallback)
    }

    private static let codes = Dictionary(uniqueKeysWithValues: Code.allCases.map { ($0.rawValue, $0) })

    /// Wordings the worker stored before codes: "not a recognised media file: <ffprobe's
    /// stderr>", "ffprobe timed out after N s", "will retry: …".
    static func legacyCode(_ text: String) -> Code? {
        if text.hasPrefix("not a recognised media file") { return .notMedia }
        if text.hasPrefix("ffprobe timed out") { return .probeTimeout }
        return nil
    }
}

extension MediaFile {
    /// Why the file failed, or why its import waits for a retry (status `pending`); nil when neither.
    public var failure: MediaFileError? { error.map { MediaFileError(stored: $0, fallback: .processingFailed) } }

    /// Why the file has no probe (it is not media, or ffprobe failed); nil when probed or not yet probed.
    public var probeFailure: MediaFileError? { ffprobeError.map { MediaFileError(stored: $0, fallback: .probeFailed) } }
}
