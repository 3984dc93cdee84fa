import CCurl
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One libcurl request to a target that passed `AddressPolicy.check`: curl resolves nothing
/// itself (the host is pinned to the checked addresses with `CURLOPT_RESOLVE`), opens sockets
/// only to those addresses (open-socket callback), uses no proxy, follows no redirect, speaks
/// only http(s), and is bounded in time. Every outbound HTTP request of the service goes
/// through here: `HTTPFetcher` (downloads, webhooks) and the bucket clients.
public enum GuardedTransfer {
    /// Makes sure `curl_global_init` ran once before any handle is made.
    public static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// `configure` adds the request's own options (method, headers, body, sinks) to the handle;
    /// `inspect` reads the finished transfer (curl's code, its error text) unless it was stopped
    /// (`OutboundError` reason `.stopped`) or tried to connect elsewhere (`.blockedAddress`).
    /// `shouldStop` is asked while bytes flow and at least once a second.
    public static func perform<T>(_ target: AddressPolicy.Target, what: String, timeoutSeconds: Int,
                                  shouldStop: @escaping () -> Bool = { false },
                                  configure: (UnsafeMutableRawPointer) -> Void,
                                  inspect: (UnsafeMutableRawPointer, CURLcode, String) throws -> T) throws -> T {
        try perform(target, what: what, timeoutSeconds: timeoutSeconds, stop: TransferStop(shouldStop), stoppedDetail: { "" },
                    configure: configure, inspect: inspect)
    }

    static func perform<T>(_ target: AddressPolicy.Target, what: String, timeoutSeconds: Int, stop: TransferStop,
                           stoppedDetail: () -> String, configure: (UnsafeMutableRawPointer) -> Void,
                           inspect: (UnsafeMutableRawPointer, CURLcode, String) throws -> T) throws -> T {
        _ = globalInit
        guard let handle = curl_easy_init() else { throw OutboundError("curl_easy_init failed", transient: true) }
        defer { curl_easy_cleanup(handle) }

        let pinned = target.addressStrings.map { $0.contains(":") ? "[\($0)]" : $0 }.joined(separator: ",")
        let resolve: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "\(target.host):\(target.port):\(pinned)")
        defer { curl_slist_free_all(resolve) }
        var allowed = fg_curl_allowed()
        withUnsafeMutableBytes(of: &allowed.addresses) { raw in
            let slots = raw.bindMemory(to: sockaddr_storage.self)
            for (i, address) in target.addresses.prefix(slots.count).enumerated() { slots[i] = address }
        }
        allowed.count = Int32(min(target.addresses.count, 16))
        var error = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        fg_curl_setopt_string(handle, CURLOPT_URL, target.url)
        fg_curl_setopt_pointer(handle, CURLOPT_RESOLVE, resolve)
        fg_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        fg_curl_setopt_string(handle, CURLOPT_PROXY, "")
        fg_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        fg_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        fg_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
        fg_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, min(15, timeoutSeconds))
        fg_curl_setopt_string(handle, CURLOPT_USERAGENT, "Fetchgate/1.0")
        _ = error.withUnsafeMutableBufferPointer { fg_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, $0.baseAddress) }
        configure(handle)

        let (code, stopped) = stop.perform(handle) {
            withUnsafeMutablePointer(to: &allowed) { allowedPointer in
                fg_curl_restrict_connect(handle, allowedPointer)
                return curl_easy_perform(handle)
            }
        }
        if stopped {
            let detail = stoppedDetail()
            throw OutboundError("the \(what) was stopped" + (detail.isEmpty ? "" : " " + detail), transient: true, reason: .stopped)
        }
        if allowed.refused != 0 {
            throw OutboundError("refusing to connect to a non-checked address for \(target.host)", transient: false,
                                reason: .blockedAddress)
        }
        let detail = error[0] != 0 ? String(cString: error) : String(cString: curl_easy_strerror(code))
        return try inspect(handle, code, detail)
    }
}
