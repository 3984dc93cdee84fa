import XCTest
import Domain
@testable import FileStores
import Foundation

/// `s3://` storage URLs, bucket keys from a file or the environment, the nginx location of a
/// bucket store, and the local store's health check. (The bucket itself: BucketsIntegrationTests.)
final class S3LocationTests: XCTestCase {
    let keys = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]

    func testURLsNameBucketPrefixEndpointAndRegion() throws {
        let full = try S3Location(url: "s3://media-1.x/our/files?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-1")
        XCTAssertEqual([full.bucket, full.prefix, full.endpoint, full.region], ["media-1.x", "our/files/", "http://127.0.0.1:9000", "eu-west-1"])
        let plain = try S3Location(url: "s3://media/?endpoint=http://localhost:9000")
        XCTAssertEqual([plain.bucket, plain.prefix, plain.endpoint, plain.region], ["media", "", "http://localhost:9000", "us-east-1"])
        let aws = try S3Location(url: "s3://media/p/")
        XCTAssertEqual(aws.prefix, "p/")
        XCTAssertNil(aws.endpoint)
        XCTAssertEqual(try aws.client(accessKeyID: "a", secret: "s").origin().host, "media.s3.us-east-1.amazonaws.com")
        XCTAssertEqual(try full.client(accessKeyID: "a", secret: "s").origin().host, "127.0.0.1:9000")
    }

    func testBadURLsAreRefused() {
        for url in ["s3://", "s3://ab", "s3://Media/x", "s3://media/a//b", "s3://media/../x", "s3://media/x y", "s3://media?region=",
                    "s3://media?colour=red", "s3://media?endpoint=ftp://h", "s3://media?endpoint=http://h/path", "s3:/media",
                    "s3://media?region=eu west"] {
            XCTAssertThrowsError(try S3Location(url: url).client(accessKeyID: "a", secret: "s"), url)
        }
        XCTAssertThrowsError(try FileStores.open(url: "gs://media", environment: keys))
    }

    func testKeysComeFromTheEnvironmentOrAnOwnerOnlyFile() throws {
        XCTAssertEqual(try S3Location.credentials(file: nil, environment: keys).accessKeyID, "AKIAENV")
        XCTAssertThrowsError(try S3Location.credentials(file: nil, environment: [:]))
        let file = NSTemporaryDirectory() + "s3-keys-\(UUID().uuidString)"
        defer { unlink(file) }
        for text in ["# ours\nkey = AKIAFILE\nsecret=s3=cret\n", "AWS_ACCESS_KEY_ID=AKIAFILE\r\nAWS_SECRET_ACCESS_KEY=s3=cret"] {
            FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            let found = try S3Location.credentials(file: file, environment: keys)
            XCTAssertEqual([found.accessKeyID, found.secret], ["AKIAFILE", "s3=cret"], text)
        }
        for text in ["key=AKIAFILE\n", "key=AKIAFILE\nsecret=\n", "key=AKIAFILE\nsecret=s\nregion=x\n", "AKIAFILE\n"] {
            FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            XCTAssertThrowsError(try S3Location.credentials(file: file, environment: keys), text)
        }
        FileManager.default.createFile(atPath: file, contents: Data("key=a\nsecret=s\n".utf8), attributes: [.posixPermissions: 0o640])
        XCTAssertThrowsError(try S3Location.credentials(file: file, environment: keys)) { error in
            XCTAssertTrue("\(error)".contains("readable by others"), "\(error)")
        }
        XCTAssertThrowsError(try S3Location.credentials(file: file + ".missing", environment: keys))
    }

    func testABucketStoreBringsItsInternalNginxLocation() throws {
        XCTAssertEqual(try FileStores.nginxLocations(url: "file:/srv/files"), "")
        let url = "s3://media/p?endpoint=http://127.0.0.1:9000"
        XCTAssertEqual(try FileStores.nginxLocations(url: url), try FileStores.rangedLocation(url: url) + FileStores.wholeFileLocation(url: url))
        let block = try FileStores.rangedLocation(url: url)
        for line in ["location ^~ /_s3/ {", "internal;", "proxy_pass http://127.0.0.1:9000/;", "proxy_set_header Host \"127.0.0.1:9000\";",
                     "proxy_buffering off;", "proxy_set_header Authorization \"\";", "proxy_hide_header ETag;"] {
            XCTAssertTrue(block.contains(line), line)
        }
        XCTAssertFalse(block.contains("Range"), "Range goes through as the client sent it")
        XCTAssertFalse(block.contains("proxy_ssl"))
        let aws = try FileStores.rangedLocation(url: "s3://media/p?region=eu-west-1")
        for line in ["proxy_pass https://media.s3.eu-west-1.amazonaws.com/;", "proxy_set_header Host \"media.s3.eu-west-1.amazonaws.com\";",
                     "proxy_ssl_server_name on;", "proxy_ssl_verify on;", "proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;"] {
            XCTAssertTrue(aws.contains(line), line)
        }
    }

    func testTheWholeFileLocationDoesNotPassTheClientsRangeOn() throws {
        XCTAssertEqual(try FileStores.wholeFileLocation(url: "file:/srv/files"), "")
        let block = try FileStores.wholeFileLocation(url: "s3://media/p?endpoint=http://127.0.0.1:9000")
        let wanted = ["location ^~ /_s3whole/ {", "internal;", "proxy_pass http://127.0.0.1:9000/;", "proxy_set_header Range \"\";",
                      "proxy_set_header If-Range \"\";", "proxy_set_header If-Modified-Since \"\";", "proxy_hide_header ETag;"]
        XCTAssertEqual(wanted.filter { !block.contains($0) }, [], block)
        XCTAssertFalse(try FileStores.rangedLocation(url: "s3://media/p?endpoint=http://127.0.0.1:9000").contains("_s3whole"))
    }

    func testTheLocalStoreIsHealthyWhileItsDirectoryIsWritable() throws {
        let directory = NSTemporaryDirectory() + "filestores-check-\(UUID().uuidString)"
        let store = try FileStores.open(url: "file:" + directory)
        XCTAssertNoThrow(try store.check())
        try FileManager.default.removeItem(atPath: directory)
        XCTAssertThrowsError(try store.check())
    }
}
