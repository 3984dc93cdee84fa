import CCurl
import Foundation

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

/// Downloads a URL into a file with libcurl, under the SSRF guard: every hop's host is
/// checked and pinned (`CURLOPT_RESOLVE`), connections are allowed only to those checked
/// addresses (open-socket callback), redirects are followed by hand and re-checked, no
/// proxy from the environment, size and time bounded.
public struct HTTPFetcher: Sendable {
    public let policy: AddressPolicy
    public let limits: FetchLimits

    public init(policy: AddressPolicy, limits: FetchLimits = FetchLimits()) {
        self.policy = policy
        self.limits = limits
        _ = HTTPFetcher.globalInit
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

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
        guard let handle = curl_easy_init() else { throw OutboundError("curl_easy_init failed", transient: true) }
        defer { curl_easy_cleanup(handle) }

        // Pin the host to the addresses we checked: curl resolves nothing itself.
        let pinned = target.addressStrings.map { $0.contains(":") ? "[\($0)]" : $0 }.joined(separator: ",")
        var resolve: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "\(target.host):\(target.port):\(pinned)")
        defer { curl_slist_free_all(resolve) }
        var allowed = fg_curl_allowed()
        withUnsafeMutableBytes(of: &allowed.addresses) { raw in
            let slots = raw.bindMemory(to: sockaddr_storage.self)
            for (i, address) in target.addresses.prefix(slots.count).enumerated() { slots[i] = address }
        }
        allowed.count = Int32(min(target.addresses.count, 16))
        var sink = fg_curl_sink(fd: fd, written: 0, limit: limits.maxBytes, exceeded: 0, failed: 0)
        var error = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        fg_curl_setopt_string(handle, CURLOPT_URL, target.url)
        fg_curl_setopt_pointer(handle, CURLOPT_RESOLVE, resolve)
        fg_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        fg_curl_setopt_string(handle, CURLOPT_PROXY, "")
        fg_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        fg_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        fg_curl_setopt_long(handle, CURLOPT_TIMEOUT, limits.timeoutSeconds)
        fg_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 15)
        fg_curl_setopt_long(handle, CURLOPT_MAXFILESIZE_LARGE, Int(limits.maxBytes))
        fg_curl_setopt_string(handle, CURLOPT_USERAGENT, "Fetchgate/1.0")
        _ = error.withUnsafeMutableBufferPointer { fg_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, $0.baseAddress) }

        let (code, stopped) = stop.perform(handle) {
            withUnsafeMutablePointer(to: &allowed) { allowedPointer in
                withUnsafeMutablePointer(to: &sink) { sinkPointer in
                    fg_curl_restrict_connect(handle, allowedPointer)
                    fg_curl_download_to(handle, sinkPointer)
                    return curl_easy_perform(handle)
                }
            }
        }
        _ = resolve
        if stopped {
            throw OutboundError("the download was stopped after \(sink.written) bytes", transient: true, reason: .stopped)
        }
        if allowed.refused != 0 {
            throw OutboundError("refusing to connect to a non-checked address for \(target.host)", transient: false,
                                reason: .blockedAddress)
        }
        if sink.exceeded != 0 || code == CURLE_FILESIZE_EXCEEDED {
            throw OutboundError("the file is larger than the limit of \(limits.maxBytes) bytes", transient: false, reason: .tooLarge)
        }
        if sink.failed != 0 {
            throw OutboundError("cannot write the download: \(String(cString: strerror(sink.failed)))", transient: false,
                                reason: .localWrite)
        }
        guard code == CURLE_OK else {
            let detail = error[0] != 0 ? String(cString: error) : String(cString: curl_easy_strerror(code))
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
    }
}
