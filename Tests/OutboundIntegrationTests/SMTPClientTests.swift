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

    /// A job that lost its lease stops its delivery: here the peer accepts the connection and
    /// never greets (the tiny HTTP origin waits for a request), and the send is aborted long
    /// before its time limit.
    func testStopAbortsADeliveryInProgress() throws {
        let server = try TinyHTTPServer()
        defer { server.stop() }
        let client = SMTPClient(settings: SMTPSettings(url: "smtp://127.0.0.1:\(server.port)", timeoutSeconds: 30))
        let message = MailMessage(from: "shop@example.com", fromName: "Shop", to: "bugs@bunny.com", toName: "Bugs",
                                  subject: "Your downloads", body: "hello\n", messageID: "stop@test")
        let start = Date()
        XCTAssertThrowsError(try client.send(message, shouldStop: { Date().timeIntervalSince(start) > 0.5 })) { error in
            XCTAssertEqual((error as? OutboundError)?.reason, .stopped, "\(error)")
            XCTAssertEqual((error as? OutboundError)?.transient, true)
        }
        let took = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(took, 0.5)
        XCTAssertLessThan(took, 3, "the stop was not obeyed")
    }
}
