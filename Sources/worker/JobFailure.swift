import Domain
import Media
import Outbound

/// How a job failed: whether a retry may help, the detail (for the log and the job row only,
/// never a reply) and, for a file's job, the code its file shows (`MediaFileError`).
struct JobFailure: Error, CustomStringConvertible {
    let problem: MediaFileError
    let transient: Bool
    let detail: String

    var description: String { detail }

    init(_ problem: MediaFileError, transient: Bool, detail: String) {
        self.problem = problem
        self.transient = transient
        self.detail = detail
    }

    /// Any error a job can throw. Unknown errors (SQLite busy, …) are transient and show as `processing_failed`.
    init(_ error: any Error) {
        switch error {
        case let failure as JobFailure:
            self = failure
        case let outbound as OutboundError:
            self.init(JobFailure.problem(outbound.reason), transient: outbound.transient, detail: outbound.description)
        default:
            self.init(MediaFileError(.processingFailed), transient: true, detail: "\(error)")
        }
    }

    static func problem(_ reason: OutboundError.Reason) -> MediaFileError {
        switch reason {
        case .invalidURL: MediaFileError(.invalidURL)
        case .blockedAddress: MediaFileError(.blockedAddress)
        case .unresolvable: MediaFileError(.hostNotFound)
        case .network: MediaFileError(.network)
        case .timeout: MediaFileError(.timeout)
        case .tooLarge: MediaFileError(.tooLarge)
        case .tooManyRedirects: MediaFileError(.tooManyRedirects)
        case .httpStatus(let status): .httpStatus(status)
        case .localWrite: MediaFileError(.storageFailed)
        case .other: MediaFileError(.processingFailed)
        }
    }

    static func problem(_ probe: Prober.Failure) -> MediaFileError {
        switch probe.kind {
        case .notMedia: MediaFileError(.notMedia)
        case .timeout: MediaFileError(.probeTimeout)
        case .failed: MediaFileError(.probeFailed)
        }
    }
}
