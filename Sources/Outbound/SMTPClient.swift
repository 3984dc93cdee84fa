import CCurl
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Where and how to deliver mail over SMTP (libcurl).
public struct SMTPSettings: Sendable {
    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    public var username: String?
    public var password: String?
    /// Require STARTTLS on a plain `smtp://` connection.
    public var startTLS: Bool
    public var timeoutSeconds: Int

    public init(url: String, username: String? = nil, password: String? = nil, startTLS: Bool = false, timeoutSeconds: Int = 30) {
        self.url = url
        self.username = username
        self.password = password
        self.startTLS = startTLS
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Sends messages with libcurl's SMTP support.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings

    public init(settings: SMTPSettings) {
        self.settings = settings
        _ = SMTPClient.globalInit
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// `shouldStop` is asked during the transfer: true aborts it with the reason `stopped`
    /// (a job that lost its lease).
    public func send(_ message: MailMessage, shouldStop: @escaping () -> Bool = { false }) throws {
        let bytes: [UInt8]
        do { bytes = try message.rendered() } catch { throw OutboundError("\(error)", transient: false) }
        guard let handle = curl_easy_init() else { throw OutboundError("curl_easy_init failed", transient: true) }
        defer { curl_easy_cleanup(handle) }
        var recipients: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "<\(message.to)>")
        defer { curl_slist_free_all(recipients) }

        var error = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        fg_curl_setopt_string(handle, CURLOPT_URL, settings.url)
        fg_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(message.from)>")
        fg_curl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, recipients)
        fg_curl_setopt_long(handle, CURLOPT_TIMEOUT, settings.timeoutSeconds)
        fg_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
        fg_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        fg_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        if settings.startTLS { fg_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if let user = settings.username { fg_curl_setopt_string(handle, CURLOPT_USERNAME, user) }
        if let password = settings.password { fg_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        _ = error.withUnsafeMutableBufferPointer { fg_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, $0.baseAddress) }

        let (code, stopped) = TransferStop(shouldStop).perform(handle) {
            bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { data in
                    var source = fg_curl_source(data: data, length: buffer.count, position: 0)
                    return withUnsafeMutablePointer(to: &source) { pointer in
                        fg_curl_upload_from(handle, pointer)
                        return curl_easy_perform(handle)
                    }
                }
            }
        }
        _ = recipients
        guard code != CURLE_OK else { return }
        if stopped { throw OutboundError("SMTP delivery was stopped", transient: true, reason: .stopped) }
        var response: Int = 0
        fg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &response)
        let detail = String(cString: error) .isEmpty ? String(cString: curl_easy_strerror(code)) : String(cString: error)
        // 5xx replies are permanent (bad recipient, refused); everything else may pass later.
        let permanent = response >= 500 && response < 600
        throw OutboundError("SMTP delivery failed: \(detail)\(response > 0 ? " (reply \(response))" : "")", transient: !permanent)
    }
}
