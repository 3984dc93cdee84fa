import Foundation
import Outbound
import XCTest
@testable import Buckets

/// What the provider answered, named (a loopback server answering as S3 does), and the SSRF
/// rules on a user-given endpoint (a refused endpoint is never contacted).
final class S3AnswersTests: XCTestCase {
    var origin: LoopbackOrigin!

    override func setUpWithError() throws { origin = try LoopbackOrigin(address: "127.0.0.1") }
    override func tearDown() { origin?.stop() }

    func client(policy: AddressPolicy = AddressPolicy(allowedPrivateHosts: ["127.0.0.1"]), endpoint: String? = nil) -> S3Client {
        S3Client(endpoint: endpoint ?? "http://127.0.0.1:\(origin.port)", region: "us-east-1", bucket: "media",
                 accessKeyID: "AKIDEXAMPLE", secret: "secret", pathStyle: true, policy: policy)
    }

    func error(_ status: Int, _ code: String, _ message: String, extra: String = "") -> LoopbackOrigin.Reply {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message>\(extra)<RequestId>1</RequestId></Error>"
        return LoopbackOrigin.Reply(status: status, headers: [("Content-Type", "application/xml")], body: Array(xml.utf8))
    }

    func testWrongCredentials403() {
        let failure = failureForAnyPath(error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."))
        XCTAssertEqual(failure?.code, .wrongCredentials)
        XCTAssertEqual(failure?.message, "writing a test object: the provider refused the credentials (HTTP 403 InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.)")
    }

    func testNoSuchBucket404() {
        let failure = failureForAnyPath(error(404, "NoSuchBucket", "The specified bucket does not exist"))
        XCTAssertEqual(failure?.code, .noSuchBucket)
        XCTAssertEqual(failure?.message, "writing a test object: the bucket does not exist (the provider answered HTTP 404 NoSuchBucket: The specified bucket does not exist)")
    }

    func testPermanentRedirect301NamesTheRegion() {
        let failure = failureForAnyPath(error(301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.",
                                              extra: "<Endpoint>media.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>media</Bucket>"))
        XCTAssertEqual(failure?.code, .wrongRegion)
        XCTAssertTrue(failure?.message.hasPrefix("writing a test object: the bucket is in another region (media.s3.eu-west-1.amazonaws.com) (the provider answered HTTP 301 PermanentRedirect") == true,
                      failure?.message ?? "")
        XCTAssertEqual(origin.connections, 1, "a redirect is never followed")
    }

    func testServerErrorsAreTransient() {
        let failure = failureForAnyPath(error(503, "SlowDown", "Please reduce your request rate."))
        XCTAssertEqual(failure, BucketError(.provider, "writing a test object: the provider answered HTTP 503 SlowDown: Please reduce your request rate.", transient: true))
    }

    /// The probe's object key is random (the origin routes by path): its write, with a fixed key,
    /// answered by `reply`, mapped as the probe maps it.
    func failureForAnyPath(_ reply: LoopbackOrigin.Reply) -> BucketError? {
        let s3 = client()
        origin.route("/media/p/fixed", reply)
        do {
            let written = try s3.send("PUT", "p/fixed", body: .memory(Array("x".utf8)))
            XCTAssertNotEqual(written.status, 200)
            return S3Client.failure(written, doing: "writing a test object")
        } catch { return error as? BucketError }
    }

    func testPrivateEndpointIsRefusedAndNeverContacted() throws {
        let strict = client(policy: AddressPolicy())
        origin.route("/media/x.mp4", LoopbackOrigin.Reply(status: 200))
        for attempt in [{ try strict.probe(prefix: "") }, { _ = try strict.head(key: "x.mp4") }, { try strict.delete(key: "x.mp4") }] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertEqual(error as? BucketError,
                               BucketError(.refusedEndpoint, "the endpoint's host is on a non-public address, which is refused"))
            }
        }
        let path = try randomFile(size: 100)
        XCTAssertThrowsError(try strict.put(localPath: path, key: "x.mp4", contentType: "video/mp4"))
        // Other spellings of loopback, and the metadata address, through the same rule.
        for endpoint in ["http://127.1:\(origin.port)", "http://2130706433:\(origin.port)", "http://[::ffff:127.0.0.1]:\(origin.port)",
                         "http://169.254.169.254", "http://localhost:\(origin.port)"] {
            XCTAssertThrowsError(try client(policy: AddressPolicy(), endpoint: endpoint).probe(prefix: "")) { error in
                XCTAssertEqual((error as? BucketError)?.code, .refusedEndpoint, endpoint)
            }
        }
        XCTAssertEqual(origin.connections, 0, "a refused endpoint is never contacted")
        XCTAssertThrowsError(try client(endpoint: "ftp://127.0.0.1/").probe(prefix: "")) { error in
            XCTAssertEqual((error as? BucketError)?.code, .refusedEndpoint)
        }
        XCTAssertThrowsError(try client(endpoint: "http://127.0.0.1:\(origin.port)/path").probe(prefix: "")) { error in
            XCTAssertEqual((error as? BucketError)?.code, .refusedEndpoint)
        }
        XCTAssertEqual(origin.connections, 0)
    }
}
