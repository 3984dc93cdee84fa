#if canImport(Glibc)
import Glibc
#endif

/// FastCGI connection reuse between nginx and one dialect: `upstream { keepalive K; }` with
/// `fastcgi_keep_conn on`. libfcgi serves a kept connection only: the thread that answered on it
/// waits there for nginx's next request and accepts nothing else. Each of nginx's W workers keeps
/// up to K idle connections per upstream, so up to W×K of the dialect's T threads can be parked.
/// With T <= W×K every thread can be parked while a worker whose pool is empty opens a new
/// connection that no thread ever accepts: its requests hang until nginx's read timeout (measured
/// in bench/delivery.sh, `limits`). So K is derived from T and W with W×K < T: at least one thread
/// always takes new connections. Too few threads for a pool (T <= W) means no pool.
struct UpstreamPool: Equatable {
    /// nginx's worker processes (rendered as `worker_processes`, never `auto`).
    let workers: Int
    /// Request threads of each dialect process.
    let threads: Int

    /// Idle connections each worker keeps per dialect: the largest K with W×K < T.
    var keepalive: Int { max(0, (threads - 1) / workers) }

    /// One worker per core, as nginx's `auto`.
    static var defaultWorkers: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The upstream block's lines for this pool: its size and why (nothing when there is no pool).
    var upstreamLines: String {
        guard keepalive > 0 else {
            return """
                    # No connection reuse: \(threads) threads cannot outnumber \(workers) workers' pools of 1.

            """
        }
        return """
                # Connection reuse: each of nginx's \(workers) workers keeps at most \(keepalive) idle connection(s)
                # here, and each parks one of the dialect's \(threads) threads (libfcgi serves only that
                # connection). \(workers) × \(keepalive) = \(workers * keepalive) < \(threads): a thread is always free for a new
                # connection. With as many pooled connections as threads, requests starve.
                keepalive \(keepalive);

        """
    }

    /// The line every location passing to a pooled upstream needs (none without a pool).
    var locationLine: String { keepalive > 0 ? "fastcgi_keep_conn on;" : "" }
}
