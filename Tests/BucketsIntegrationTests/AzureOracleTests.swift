import Crypto
import Foundation
import HTTPCore
import Outbound
import XCTest
@testable import Buckets

/// No Azure emulator can be installed here (Azurite is npm-only). What is verified, offline:
/// the SharedKey Authorization header of every kind of request `AzureBlobClient` sends
/// (captured on a loopback listener) is recomputed by the `azure-storage-blob` SDK's own
/// `SharedKeyCredentialPolicy` from the same method, URL and headers, and must be identical;
/// the read SAS must be identical to the SDK's `BlobSharedAccessSignature.generate_blob`.
/// Not verified: that Azure accepts them, nor the service's answers to uploads.
final class AzureOracleTests: XCTestCase {
    let key = Base64.encode(Array((0..<64).map { UInt8(($0 * 37 + 11) & 0xff) }))

    static let sdkSharedKey = #"""
import json, sys
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy
account, key = sys.argv[2], sys.argv[3]
for raw in json.loads(sys.argv[1]):
    head = raw.split("\r\n\r\n", 1)[0].split("\r\n")
    method, target, _ = head[0].split(" ")
    headers = {}
    for line in head[1:]:
        name, value = line.split(":", 1)
        if name.lower() != "authorization":
            headers[name.strip()] = value.strip()
    request = HttpRequest(method, "http://" + headers["Host"] + target, headers=headers)
    SharedKeyCredentialPolicy(account, key).on_request(PipelineRequest(request, PipelineContext(None)))
    print(request.headers["Authorization"])
"""#

    func testSharedKeyHeadersMatchTheSDK() throws {
        let origin = try LoopbackOrigin(address: "127.0.0.1")
        defer { origin.stop() }
        let client = AzureBlobClient(account: "fetchgatemedia", container: "media", credential: .sharedKey(key),
                                     endpoint: "http://127.0.0.1:\(origin.port)", policy: AddressPolicy(allowedPrivateHosts: ["127.0.0.1"]))
        let blob = "dir/a b+ü (1).mp4"
        origin.route(client.path(blob), LoopbackOrigin.Reply(status: 201))
        let file = try randomFile(size: 5000)
        let fd = open(file, O_RDONLY)
        defer { close(fd) }
        let md5 = [UInt8](repeating: 9, count: 16)
        // Put Blob from a file, Put Block, Put Block List, Get Blob Properties, Delete Blob.
        _ = try client.send("PUT", blob, headers: [("Content-MD5", Base64.encode(md5)), ("Content-Type", "video/mp4"),
                                                   ("x-ms-blob-type", "BlockBlob")], body: .file(fd: fd, offset: 0, length: 5000))
        _ = try client.send("PUT", blob, query: [("comp", "block"), ("blockid", AzureBlobClient.blockID(7))],
                            headers: [("Content-MD5", Base64.encode(md5))], body: .file(fd: fd, offset: 1000, length: 4000))
        _ = try client.send("PUT", blob, query: [("comp", "blocklist")],
                            headers: [("Content-Type", "application/xml"), ("x-ms-blob-content-type", "video/mp4")],
                            body: .memory(Array("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>YQ==</Latest></BlockList>".utf8)))
        _ = try client.send("HEAD", blob)
        _ = try client.send("DELETE", blob)
        let requests = origin.requests
        XCTAssertEqual(requests.count, 5)
        let ours = authorizationHeaders(requests)
        XCTAssertEqual(ours, try oracle(AzureOracleTests.sdkSharedKey, requests, [client.account, key]))
        XCTAssertTrue(ours.allSatisfy { $0.hasPrefix("SharedKey fetchgatemedia:") })
        XCTAssertTrue(requests[1].hasPrefix("PUT /media/dir/a%20b%2B%C3%BC%20%281%29.mp4?comp=block&blockid=YmxvY2stMDAwMDA3 HTTP/1.1\r\n"),
                      requests[1])
    }

    static let sdkReadSAS = #"""
import datetime, json, sys
from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature
for case in json.loads(sys.argv[1]):
    sas = BlobSharedAccessSignature(case["account"], account_key=case["key"])
    sas.x_ms_version = case["version"]  # the SDK's constructor fixes its newest version; ours is older
    print(sas.generate_blob(case["container"], case["blob"], permission="r",
                            expiry=datetime.datetime.fromtimestamp(case["expiry"], datetime.timezone.utc),
                            protocol="https", content_disposition=case["disposition"], content_type=case["type"]))
"""#

    func testReadSASMatchesTheSDK() throws {
        let cases: [(blob: String, filename: String, type: String, now: Int64, expires: Int64)] = [
            ("uploads/3f1c9a2e.mp4", "My Video.mp4", "video/mp4", 1_767_225_600, 3600),
            ("a b/ünï (1).webm", "Ünïcode – \"q\";.webm", "video/webm", 1_780_000_123, SigV4.maxExpirySeconds),
        ]
        let client = AzureBlobClient(account: "fetchgatemedia", container: "media", credential: .sharedKey(key), policy: AddressPolicy())
        var ours: [String] = []
        var input: [[String: Any]] = []
        for item in cases {
            let url = try client.presignedGET(key: item.blob, filename: item.filename, contentType: item.type, expires: item.expires,
                                              now: item.now)
            XCTAssertTrue(url.hasPrefix("https://fetchgatemedia.blob.core.windows.net" + client.path(item.blob) + "?"), url)
            ours.append(String(url.split(separator: "?", maxSplits: 1)[1]))
            input.append(["account": "fetchgatemedia", "key": key, "version": AzureBlobClient.apiVersion, "container": "media",
                          "blob": item.blob, "expiry": item.now + item.expires,
                          "disposition": ContentDisposition.attachment(filename: item.filename), "type": item.type])
        }
        XCTAssertEqual(ours, try oracle(AzureOracleTests.sdkReadSAS, input))
        XCTAssertTrue(ours[0].contains("&rscd=attachment%3B%20filename%3D%22My%20Video.mp4%22&"), ours[0])
        // With the user's own SAS, the link is that SAS as given.
        let sasClient = AzureBlobClient(account: "a", container: "c", credential: .sas("?sv=2025-01-05&sig=abc"), policy: AddressPolicy())
        XCTAssertEqual(try sasClient.presignedGET(key: "k.mp4", filename: "k.mp4", contentType: "video/mp4", expires: 60, now: 0),
                       "https://a.blob.core.windows.net/c/k.mp4?sv=2025-01-05&sig=abc")
    }
}
