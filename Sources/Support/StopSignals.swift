#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM/SIGINT handling for long-running processes: block them in every thread
/// (call before starting threads), then wait for one in the main thread.
public enum StopSignals {
    private static func set() -> sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        return signals
    }

    public static func block() {
        signal(SIGPIPE, SIG_IGN)
        var signals = set()
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Returns the signal that arrived.
    @discardableResult
    public static func wait() -> Int32 {
        var signals = set()
        var received: Int32 = 0
        sigwait(&signals, &received)
        return received
    }
}
