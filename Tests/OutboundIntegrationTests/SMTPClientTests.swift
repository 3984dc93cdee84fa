import XCTest
import Foundation
@testable import Outbound

/// The SMTP client against loopback sockets (hence an integration target).
final class SMTPClientTests: XCTestCase {
    func testSMTPRefusedConnectionIsTransient() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let client = SMTPClient(settings: SMTPSettings(url: "smtp://127.0.0.1:1", timeoutSeconds: 5))
        let message = MailMessage(from: "shop@example.com", fromName: "Shop", to: "bugs@bunny.com", toName: "Bugs Bunny",
                                  subject: "Your downloads", body: "line one\n", messageID: "m1@test",
                                  date: Date(timeIntervalSince1970: 0))
        XCTAssertThrowsError(try client.send(message)) { error in
            XCTAssertTrue((error as! OutboundError).transient)
        }
    }
}
