import Formats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A plain-text email rendered as RFC 5322 bytes (CRLF lines, UTF-8 body, RFC 2047 headers).
public struct MailMessage: Equatable, Sendable {
    public var from: String
    public var fromName: String
    public var to: String
    public var toName: String
    public var subject: String
    public var body: String
    public var messageID: String
    public var date: Date

    public init(from: String, fromName: String = "", to: String, toName: String = "", subject: String, body: String,
                messageID: String, date: Date = Date()) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.toName = toName
        self.subject = subject
        self.body = body
        self.messageID = messageID
        self.date = date
    }

    public struct InvalidAddress: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The one address rule (`EmailAddress`, shared with order input).
    public static func validate(address: String) throws {
        if let problem = EmailAddress.problem(address) {
            throw InvalidAddress(description: "not a valid email address (\(problem)): \(address)")
        }
    }

    public func rendered() throws -> [UInt8] {
        try MailMessage.validate(address: from)
        try MailMessage.validate(address: to)
        var lines = [
            "From: " + MailMessage.mailbox(fromName, from),
            "To: " + MailMessage.mailbox(toName, to),
            "Subject: " + MailMessage.encodeHeader(subject),
            "Date: " + DateTime.mailDate(Int64(date.timeIntervalSince1970.rounded(.down))),
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
        ]
        // Normalise to CRLF; a line with a single "." is fine (curl dot-stuffs), but keep lines short-ish.
        var scalars = String.UnicodeScalarView()
        var afterCR = false
        for scalar in body.unicodeScalars {
            if scalar == "\n" && afterCR { afterCR = false; continue }
            afterCR = scalar == "\r"
            scalars.append(afterCR ? "\n" : scalar)
        }
        let normalized = String(scalars)
        lines.append(contentsOf: normalized.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// `Name <address>`; a name with any RFC 5322 special is quoted, so a customer's name
    /// can never add a recipient or a group.
    static func mailbox(_ name: String, _ address: String) -> String {
        let clean = name.filter { !$0.isNewline && $0 != "\"" && $0 != "\\" }
        if clean.isEmpty { return "<\(address)>" }
        let encoded = encodeHeader(clean)
        guard encoded == clean else { return "\(encoded) <\(address)>" } // an encoded word is one atom
        let specials: Set<Character> = ["(", ")", "<", ">", "[", "]", ":", ";", "@", "\\", ",", ".", "\""]
        return !clean.contains(where: specials.contains) ? "\(clean) <\(address)>" : "\"\(clean)\" <\(address)>"
    }

    /// ASCII stays; anything else becomes an RFC 2047 encoded word. CR/LF never pass.
    static func encodeHeader(_ text: String) -> String {
        let single = text.filter { !$0.isNewline }
        if single.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) { return single }
        return "=?UTF-8?B?" + Base64.encode(Array(single.utf8)) + "?="
    }
}
