import Domain
import Media
import Outbound

extension JobError {
    /// Outbound's error as the retry signal: its `transient` decides, its description is the
    /// detail (for the log and the job row); `reason` is what the subject is to show.
    init(outbound error: OutboundError, reason: (any Error & Sendable)? = nil) {
        self.init(error.transient ? .transient : .permanent, error.description, reason: reason)
    }
}

extension MediaFileError {
    /// The code a file shows for an outbound failure.
    init(outbound reason: OutboundError.Reason) {
        switch reason {
        case .invalidURL: self.init(Code.invalidURL)
        case .blockedAddress: self.init(Code.blockedAddress)
        case .unresolvable: self.init(Code.hostNotFound)
        case .network: self.init(Code.network)
        case .timeout: self.init(Code.timeout)
        case .tooLarge: self.init(Code.tooLarge)
        case .tooManyRedirects: self.init(Code.tooManyRedirects)
        case .httpStatus(let status): self = .httpStatus(status)
        case .localWrite: self.init(Code.storageFailed)
        case .stopped, .other: self.init(Code.processingFailed)
        }
    }

    /// The code a file's probe shows when ffprobe gave no result.
    init(probe: Prober.Failure) {
        switch probe.kind {
        case .notMedia: self.init(Code.notMedia)
        case .timeout: self.init(Code.probeTimeout)
        case .failed, .stopped: self.init(Code.probeFailed)
        }
    }
}
