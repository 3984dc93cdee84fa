import Crypto
import Foundation
import HTTPCore
import Outbound
import XCTest
@testable import Buckets

/// Signatures checked against the AWS SigV4 worked examples (Amazon S3 API reference,
/// "Signature Calculations for the Authorization Header" and "Query String Authentication")
/// and against botocore (the `.venv`) with fixed credentials and a fixed clock, offline.
final class SigV4OracleTests: XCTestCase {
    let example = SigV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// 2013-05-24T00:00:00Z, the examples' clock.
    let exampleTime: Int64 = 1_369_353_600

    func testAWSWorkedExamples() {
        XCTAssertEqual(SigV4.amzDate(exampleTime), "20130524T000000Z")
        let host = ("host", "examplebucket.s3.amazonaws.com"), date = ("x-amz-date", "20130524T000000Z")
        // GET Object (a range).
        XCTAssertEqual(example.signature(method: "GET", path: "/test.txt", query: [],
                                         headers: [host, ("range", "bytes=0-9"), ("x-amz-content-sha256", emptyHash), date],
                                         payloadHash: emptyHash, amzDate: "20130524T000000Z"),
                       "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        // PUT Object.
        let putHash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        XCTAssertEqual(example.signature(method: "PUT", path: "/" + SigV4.encode("test$file.text", path: true), query: [],
                                         headers: [("date", "Fri, 24 May 2013 00:00:00 GMT"), host, ("x-amz-content-sha256", putHash),
                                                   date, ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                         payloadHash: putHash, amzDate: "20130524T000000Z"),
                       "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        // GET Bucket lifecycle, and a listing with two parameters.
        XCTAssertEqual(example.signature(method: "GET", path: "/", query: [("lifecycle", "")],
                                         headers: [host, ("x-amz-content-sha256", emptyHash), date], payloadHash: emptyHash,
                                         amzDate: "20130524T000000Z"),
                       "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        XCTAssertEqual(example.signature(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                         headers: [host, ("x-amz-content-sha256", emptyHash), date], payloadHash: emptyHash,
                                         amzDate: "20130524T000000Z"),
                       "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
        // Query string authentication: the presigned GET of the example.
        XCTAssertEqual(example.presign(base: "https://examplebucket.s3.amazonaws.com", host: "examplebucket.s3.amazonaws.com",
                                       path: "/test.txt", parameters: [], expires: 86400, now: exampleTime),
                       "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// botocore's S3SigV4QueryAuth (clock patched) builds the URL itself from the endpoint, the
    /// bucket and the key (`quote(key, safe="/~")` as its S3 serializer does) with the same
    /// response-content-* parameters: the strings must be identical.
    static let botocorePresign = #"""
import datetime, json, sys, unittest.mock as mock
from urllib.parse import quote
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
for case in json.loads(sys.argv[1]):
    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls): return datetime.datetime.utcfromtimestamp(case["now"])
        @classmethod
        def now(cls, tz=None): return datetime.datetime.fromtimestamp(case["now"], tz)
    scheme, host = case["endpoint"].split("://")
    key = quote(case["key"], safe="/~")
    url = f"{scheme}://{host}/{case['bucket']}/{key}" if case["path_style"] else f"{scheme}://{case['bucket']}.{host}/{key}"
    request = AWSRequest(method="GET", url=url, params={"response-content-disposition": case["disposition"],
                                                       "response-content-type": case["type"]})
    with mock.patch("botocore.auth.datetime.datetime", Fixed):
        S3SigV4QueryAuth(Credentials(case["id"], case["secret"]), "s3", case["region"], expires=case["expires"]).add_auth(request)
    print(request.url)
"""#

    func testPresignedGETMatchesBotocore() throws {
        let policy = AddressPolicy()
        let clients = [
            S3Client(endpoint: "https://s3.eu-west-1.amazonaws.com", region: "eu-west-1", bucket: "team-media",
                     accessKeyID: "AKIAIOSFODNN7EXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", pathStyle: false, policy: policy),
            S3Client(endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "media",
                     accessKeyID: "minio", secret: "minio+secret/key", pathStyle: true, policy: policy),
            S3Client.gcs(bucket: "gcs-bucket", accessKeyID: "GOOGTS7C7FUP3AIRVJTE2BCD", secret: "bGoa+V7g/yqDXvKRqq+JTFn4uQZbPiQJo4pf9RzJ",
                         policy: policy),
            S3Client.oss(bucket: "oss-bucket", region: "cn-hangzhou", accessKeyID: "LTAI5tExample", secret: "oss/Secret+Key", policy: policy),
        ]
        let objects: [(key: String, filename: String, type: String, expires: Int64, now: Int64)] = [
            ("uploads/3f1c9a2e-0000-4000-8000-000000000001.mp4", "My Video.mp4", "video/mp4", 3600, 1_767_225_600),
            ("a b/ünïcode (1)+[x]~y.webm", "Ünïcode – name \"quoted\";.webm", "video/webm", SigV4.maxExpirySeconds, 1_780_000_123),
            ("k.mp3", "k.mp3", "audio/mpeg", 1, 1_369_353_600),
        ]
        var cases: [[String: Any]] = []
        var ours: [String] = []
        for client in clients {
            for object in objects {
                ours.append(try client.presignedGET(key: object.key, filename: object.filename, contentType: object.type,
                                                    expires: object.expires, now: object.now))
                cases.append(["endpoint": client.endpoint, "bucket": client.bucket, "path_style": client.pathStyle, "key": object.key,
                              "disposition": ContentDisposition.attachment(filename: object.filename), "type": object.type,
                              "id": client.accessKeyID, "secret": client.secret, "region": client.region,
                              "expires": object.expires, "now": object.now])
            }
        }
        let theirs = try oracle(SigV4OracleTests.botocorePresign, cases)
        XCTAssertEqual(ours.count, 12)
        XCTAssertEqual(ours, theirs)
        XCTAssertEqual(clients[2].region, "auto")
        XCTAssertTrue(ours[11].hasPrefix("https://oss-bucket.s3.oss-cn-hangzhou.aliyuncs.com/k.mp3?"), ours[11])
    }

    func testPresignedExpiryIsAtMostSevenDays() {
        let client = S3Client(endpoint: "https://s3.us-east-1.amazonaws.com", region: "us-east-1", bucket: "b", accessKeyID: "a",
                              secret: "s", pathStyle: false, policy: AddressPolicy())
        for expires: Int64 in [0, -1, SigV4.maxExpirySeconds + 1] {
            XCTAssertThrowsError(try client.presignedGET(key: "k", filename: "k", contentType: "video/mp4", expires: expires, now: 0))
        }
        XCTAssertNoThrow(try client.presignedGET(key: "k", filename: "k", contentType: "video/mp4", expires: SigV4.maxExpirySeconds, now: 0))
    }

    /// Recomputes the Authorization header of each captured request with botocore's
    /// S3SigV4Auth: the same method, URL, the headers curl signed (with the values curl sent),
    /// the body hash curl declared and curl's own x-amz-date as the clock.
    static let botocoreAuthorization = #"""
import json, sys
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
creds, region = Credentials(sys.argv[2], sys.argv[3]), sys.argv[4]
for raw in json.loads(sys.argv[1]):
    head, body = raw.split("\r\n\r\n", 1)
    head = head.split("\r\n")
    method, target, _ = head[0].split(" ")
    headers = {}
    for line in head[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    signed = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(method=method, url="http://" + headers["host"] + target,
                         headers={name: headers[name] for name in signed}, data=body.encode())
    request.context["timestamp"] = headers["x-amz-date"]
    auth = S3SigV4Auth(creds, "s3", region)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    credential = f"{creds.access_key}/{headers['x-amz-date'][:8]}/{region}/s3/aws4_request"
    print(f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={';'.join(signed)}, Signature={signature}")
"""#

    func testLibcurlsAuthorizationHeadersMatchBotocore() throws {
        let origin = try LoopbackOrigin(address: "127.0.0.1")
        defer { origin.stop() }
        let client = S3Client(endpoint: "http://127.0.0.1:\(origin.port)", region: "eu-central-1", bucket: "media",
                              accessKeyID: "AKIDEXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", pathStyle: true,
                              policy: AddressPolicy(allowedPrivateHosts: ["127.0.0.1"]))
        let key = "dir/a b+ü.mp4"
        origin.route(client.path(key), LoopbackOrigin.Reply(status: 200))
        let file = try randomFile(size: 3000)
        let fd = open(file, O_RDONLY)
        defer { close(fd) }
        // Each kind of request the client makes: a PUT from a file (UNSIGNED-PAYLOAD, Content-MD5),
        // HEAD, DELETE, the multipart create (POST ?uploads=), a part (PUT with a query), the
        // completion (POST with an XML body curl hashes itself), a PUT from memory (the probe), the
        // listing of a key's unfinished uploads (a GET of the bucket with a query).
        let md5 = [UInt8](repeating: 7, count: 16)
        _ = try client.send("PUT", key, headers: client.uploadHeaders(md5: md5) + [("Content-Type", "video/mp4")],
                            body: .file(fd: fd, offset: 0, length: 3000))
        _ = try client.send("HEAD", key)
        _ = try client.send("DELETE", key)
        _ = try client.send("POST", key, query: "uploads=", headers: [("Content-Type", "video/mp4")], body: .memory([]))
        _ = try client.send("PUT", key, query: "partNumber=2&uploadId=" + SigV4.encode("abc/DEF+=="), headers: client.uploadHeaders(md5: md5),
                            body: .file(fd: fd, offset: 1000, length: 2000))
        _ = try client.send("POST", key, query: "uploadId=xyz", headers: [("Content-Type", "application/xml")],
                            body: .memory(Array("<CompleteMultipartUpload></CompleteMultipartUpload>".utf8)))
        _ = try client.send("PUT", key, headers: [("Content-Type", "text/plain")], body: .memory(Array("probe\n".utf8)))
        _ = try client.send("GET", "", query: "prefix=\(SigV4.encode(key))&uploads=") // unfinished uploads of a key
        let requests = origin.requests
        XCTAssertEqual(requests.count, 8)
        let authorizations = authorizationHeaders(requests)
        XCTAssertEqual(authorizations, try oracle(SigV4OracleTests.botocoreAuthorization, requests,
                                                  [client.accessKeyID, client.secret, client.region]))
        // What curl signed: the upload's Content-MD5 and UNSIGNED-PAYLOAD, the completion's real hash.
        XCTAssertTrue(authorizations[0].contains("SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;x-amz-date,"),
                      authorizations[0])
        XCTAssertTrue(requests[0].lowercased().contains("\r\nx-amz-content-sha256: unsigned-payload\r\n"))
        let emptyHash = Digest.hex(Digest.sha256([UInt8]()))
        for index in [1, 2] { XCTAssertTrue(requests[index].contains("\r\nx-amz-content-sha256: \(emptyHash)\r\n"), requests[index]) }
        for authorization in authorizations { XCTAssertTrue(authorization.contains(";x-amz-content-sha256;x-amz-date,"), authorization) }
        let completionHash = Digest.hex(Digest.sha256(Array("<CompleteMultipartUpload></CompleteMultipartUpload>".utf8)))
        XCTAssertTrue(requests[5].lowercased().contains("\r\nx-amz-content-sha256: \(completionHash)\r\n"), requests[5])
        XCTAssertTrue(requests[1].hasPrefix("HEAD /media/dir/a%20b%2B%C3%BC.mp4 HTTP/1.1\r\n"), requests[1])
    }
}
