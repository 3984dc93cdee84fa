import XCTest
import Foundation
@testable import Outbound

final class MailMessageTests: XCTestCase {
    func message(to: String = "bugs@bunny.com", subject: String = "Your downloads") -> MailMessage {
        MailMessage(from: "shop@example.com", fromName: "Shop", to: to, toName: "Bugs Bunny", subject: subject,
                    body: "line one\nline two\r\n", messageID: "m1@test", date: Date(timeIntervalSince1970: 0))
    }

    func testRendersHeadersAndCRLFBody() throws {
        let text = String(decoding: try message().rendered(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("From: Shop <shop@example.com>\r\nTo: Bugs Bunny <bugs@bunny.com>\r\nSubject: Your downloads\r\n"), text)
        XCTAssertTrue(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        XCTAssertTrue(text.contains("\r\n\r\nline one\r\nline two\r\n"))
        XCTAssertFalse(text.contains("two\n\n"))
    }

    func testNonASCIISubjectIsEncodedAndNewlinesDropped() throws {
        let text = String(decoding: try message(subject: "Grüße\r\nBcc: evil@x.y").rendered(), as: UTF8.self)
        XCTAssertTrue(text.contains("Subject: =?UTF-8?B?"), text)
        XCTAssertFalse(text.contains("\r\nBcc:"))
    }

    func testDisplayNamesWithSpecialsAreQuoted() {
        XCTAssertEqual(MailMessage.mailbox("John Smith, Jr.", "b@c.de"), "\"John Smith, Jr.\" <b@c.de>")
        XCTAssertEqual(MailMessage.mailbox("Mallory: evil@example.com;", "b@c.de"), "\"Mallory: evil@example.com;\" <b@c.de>")
        XCTAssertEqual(MailMessage.mailbox("Bugs Bunny", "b@c.de"), "Bugs Bunny <b@c.de>")
        XCTAssertEqual(MailMessage.mailbox("", "b@c.de"), "<b@c.de>")
        XCTAssertTrue(MailMessage.mailbox("Jürgen, Sr.", "b@c.de").hasPrefix("=?UTF-8?B?"))
    }

    func testBadAddressesAreRefused() {
        for bad in ["no-at", "a@b\r\nBcc: c@d.e", "a b@c.d", "<a@b.c>", "a@b,c@d.e", "@b.c"] {
            XCTAssertThrowsError(try message(to: bad).rendered(), bad)
        }
    }

    func testOutboxPublishesWholeFiles() throws {
        let dir = NSTemporaryDirectory() + "outbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outbox = MailOutbox(directory: dir)
        let path = try outbox.deliver(message(), name: "order-1")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["order-1.eml"])
        XCTAssertEqual(FileManager.default.contents(atPath: path).map { [UInt8]($0) }, try message().rendered())
        XCTAssertThrowsError(try outbox.deliver(message(to: "bad"), name: "x")) { error in
            XCTAssertFalse((error as! OutboundError).transient)
        }
    }
}
