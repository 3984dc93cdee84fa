import CCurl
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Limits of one fetch.
public struct FetchLimits: Sendable {
    public var maxBytes: Int64
    public var timeoutSeconds: Int
    public var maxRedirects: Int

    public init(maxBytes: Int64 = 2 << 30, timeoutSeconds: Int = 600, maxRedirects: Int = 5) {
        self.maxBytes = maxBytes
        self.timeoutSeconds = timeoutSeconds
        self.maxRedirects = maxRedirects
    }
}

public struct FetchResult: Sendable {
    public let sizeBytes: Int64
    public let contentType: String?
    public let finalURL: String
}

/// Downloads a URL into a file, or POSTs to one (webhooks), with libcurl under the SSRF guard:
/// every hop's host is checked and pinned (`CURLOPT_RESOLVE`), connections are allowed only to
/// those checked addresses (open-socket callback), redirects are followed by hand and
/// re-checked (a POST follows none), no proxy from the environment, size and time bounded.
public struct HTTPFetcher: Sendable {
    public let policy: AddressPolicy
    public let limits: FetchLimits

    public init(policy: AddressPolicy, limits: FetchLimits = FetchLimits()) {
        self.policy = policy
        self.limits = limits
        _ = GuardedTransfer.globalInit
    }

    /// `shouldStop` is asked while bytes flow (and at least once a second): true aborts the
    /// transfer with the reason `stopped` (a job that lost its lease).
    public func download(_ url: String, to path: String, shouldStop: @escaping () -> Bool = { false }) throws -> FetchResult {
        var current = url
        let stop = TransferStop(shouldStop)
        for _ in 0...limits.maxRedirects {
            let target = try policy.check(url: current)
            switch try fetchOnce(target, to: path, stop: stop) {
            case .done(let result): return result
            case .redirect(let next): current = next
            }
        }
        throw OutboundError("too many redirects (more than \(limits.maxRedirects))", transient: false, reason: .tooManyRedirects)
    }

    enum Hop { case done(FetchResult), redirect(String) }

    private func fetchOnce(_ target: AddressPolicy.Target, to path: String, stop: TransferStop) throws -> Hop {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        guard fd >= 0 else {
            throw OutboundError("cannot write \(path): \(String(cString: strerror(errno)))", transient: false, reason: .localWrite)
        }
        defer { close(fd) }
        var sink = fg_curl_sink(fd: fd, written: 0, limit: limits.maxBytes, exceeded: 0, failed: 0)
        return try transfer(target, what: "download", sink: &sink, timeoutSeconds: limits.timeoutSeconds, stop: stop, configure: { handle in
            fg_curl_setopt_long(handle, CURLOPT_MAXFILESIZE_LARGE, Int(limits.maxBytes))
        }, inspect: { handle, code, detail, sink in
            if sink.exceeded != 0 || code == CURLE_FILESIZE_EXCEEDED {
                throw OutboundError("the file is larger than the limit of \(limits.maxBytes) bytes", transient: false, reason: .tooLarge)
            }
            if sink.failed != 0 {
                throw OutboundError("cannot write the download: \(String(cString: strerror(sink.failed)))", transient: false,
                                    reason: .localWrite)
            }
            guard code == CURLE_OK else {
                throw OutboundError("download failed: \(detail)", transient: true,
                                    reason: code == CURLE_OPERATION_TIMEDOUT ? .timeout : .network)
            }
            var status = 0
            fg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            if (300..<400).contains(status), let location = fg_curl_getinfo_string(handle, CURLINFO_REDIRECT_URL) {
                return .redirect(String(cString: location))
            }
            guard (200..<300).contains(status) else {
                throw OutboundError("the origin answered HTTP \(status)", transient: status >= 500 || status == 408 || status == 429,
                                    reason: .httpStatus(status))
            }
            let type = fg_curl_getinfo_string(handle, CURLINFO_CONTENT_TYPE).map { String(cString: $0) }
            return .done(FetchResult(sizeBytes: sink.written, contentType: type, finalURL: target.url))
        })
    }

    /// The most of a POST's response body that is read (and discarded); a longer one is cut off
    /// there, its status kept.
    public static let maxPostResponseBytes: Int64 = 64 << 10

    /// POSTs `body` to `url` once under the same guard as `download` (the host checked and
    /// pinned, connections only to the checked addresses, no proxy from the environment) and
    /// returns the status. A redirect is never followed: a 3xx is returned like any other
    /// status. The response body is discarded. Throws only when no status came: a refused or
    /// invalid URL, an unresolvable host, a network failure, the time limit, a stop.
    public func post(url: String, headers: [(String, String)], body: [UInt8], timeoutSeconds: Int = 15,
                     shouldStop: @escaping () -> Bool = { false }) throws -> Int {
        for (name, value) in headers {
            let bad = name.isEmpty || name.utf8.contains { $0 <= 0x20 || $0 >= 0x7f || $0 == UInt8(ascii: ":") }
                || value.utf8.contains { $0 == 0x0d || $0 == 0x0a || $0 == 0 }
            if bad { throw OutboundError("refusing to send a malformed header \(name)", transient: false, reason: .other) }
        }
        let target = try policy.check(url: url)
        let devNull = open("/dev/null", O_WRONLY)
        guard devNull >= 0 else { throw OutboundError("cannot open /dev/null", transient: true) }
        defer { close(devNull) }
        var sink = fg_curl_sink(fd: devNull, written: 0, limit: HTTPFetcher.maxPostResponseBytes, exceeded: 0, failed: 0)
        // No `Expect: 100-continue` round trip: the body goes with the headers.
        var list: UnsafeMutablePointer<curl_slist>?
        for line in headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        let bytes = body.isEmpty ? [0] : body // a valid pointer even for an empty body; its length is set apart
        return try bytes.withUnsafeBytes { raw in
            try transfer(target, what: "request", sink: &sink, timeoutSeconds: timeoutSeconds, stop: TransferStop(shouldStop),
                         configure: { handle in
                fg_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, list)
                fg_curl_setopt_long(handle, CURLOPT_POST, 1)
                fg_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE_LARGE, body.count)
                fg_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            }, inspect: { handle, code, detail, sink in
                var status = 0
                fg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
                if code == CURLE_OK || (sink.exceeded != 0 && status > 0) { return status }
                throw OutboundError("request failed: \(detail)", transient: true,
                                    reason: code == CURLE_OPERATION_TIMEDOUT ? .timeout : .network)
            })
        }
    }

    /// One request to a checked target (`GuardedTransfer.perform`) with the response body going
    /// into `sink`; `inspect` reads the finished transfer (curl's code, its error text, the sink).
    private func transfer<T>(_ target: AddressPolicy.Target, what: String, sink: inout fg_curl_sink, timeoutSeconds: Int,
                             stop: TransferStop, configure: (UnsafeMutableRawPointer) -> Void,
                             inspect: (UnsafeMutableRawPointer, CURLcode, String, fg_curl_sink) throws -> T) throws -> T {
        try withUnsafeMutablePointer(to: &sink) { sinkPointer in
            try GuardedTransfer.perform(target, what: what, timeoutSeconds: timeoutSeconds, stop: stop,
                                        stoppedDetail: { "after \(sinkPointer.pointee.written) bytes" },
                                        configure: { handle in
                fg_curl_download_to(handle, sinkPointer)
                configure(handle)
            }, inspect: { handle, code, detail in try inspect(handle, code, detail, sinkPointer.pointee) })
        }
    }
}
