import XCTest
import Foundation
@testable import Outbound

/// The SSRF guard: address classification on every blocked range's edges (IANA special-purpose
/// registries), and `check(url:)` on the many spellings of loopback and private hosts. Numeric
/// hosts and `localhost` resolve locally, so no network is needed.
final class AddressPolicyTests: XCTestCase {
    // MARK: helpers

    func v4(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> UInt32 {
        var address = in_addr()
        XCTAssertEqual(inet_pton(AF_INET, text, &address), 1, "bad test address \(text)", file: file, line: line)
        return UInt32(bigEndian: address.s_addr)
    }

    func v6(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
        var address = in6_addr()
        XCTAssertEqual(inet_pton(AF_INET6, text, &address), 1, "bad test address \(text)", file: file, line: line)
        return withUnsafeBytes(of: address) { Array($0) }
    }

    func assertRefused(_ policy: AddressPolicy, _ url: String, mentioning: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try policy.check(url: url), "\(url) must be refused", file: file, line: line) { error in
            guard let outbound = error as? OutboundError else {
                return XCTFail("\(url): expected OutboundError, got \(error)", file: file, line: line)
            }
            XCTAssertFalse(outbound.transient, "\(url): a refusal is final", file: file, line: line)
            XCTAssertFalse(outbound.description.isEmpty, file: file, line: line)
            if let mentioning {
                XCTAssertTrue(outbound.description.contains(mentioning), "\(url): \(outbound.description) should mention \(mentioning)",
                              file: file, line: line)
            }
        }
    }

    // MARK: IPv4

    /// (first, last) of each blocked range, with the neighbours just outside that are public.
    let blockedV4: [(first: String, last: String, outside: [String])] = [
        ("0.0.0.0", "0.255.255.255", ["1.0.0.0"]),                          // "this network"
        ("10.0.0.0", "10.255.255.255", ["9.255.255.255", "11.0.0.0"]),       // RFC 1918
        ("100.64.0.0", "100.127.255.255", ["100.63.255.255", "100.128.0.0"]), // CGNAT
        ("127.0.0.0", "127.255.255.255", ["126.255.255.255", "128.0.0.0"]),  // loopback
        ("169.254.0.0", "169.254.255.255", ["169.253.255.255", "169.255.0.0"]), // link-local, metadata
        ("172.16.0.0", "172.31.255.255", ["172.15.255.255", "172.32.0.0"]),  // RFC 1918
        ("192.0.0.0", "192.0.0.255", ["191.255.255.255", "192.0.1.0"]),      // IETF protocol assignments
        ("192.0.2.0", "192.0.2.255", ["192.0.1.255", "192.0.3.0"]),          // TEST-NET-1
        ("192.88.99.0", "192.88.99.255", ["192.88.98.255", "192.88.100.0"]), // 6to4 relay anycast
        ("192.168.0.0", "192.168.255.255", ["192.167.255.255", "192.169.0.0"]), // RFC 1918
        ("198.18.0.0", "198.19.255.255", ["198.17.255.255", "198.20.0.0"]),  // benchmarking
        ("198.51.100.0", "198.51.100.255", ["198.51.99.255", "198.51.101.0"]), // TEST-NET-2
        ("203.0.113.0", "203.0.113.255", ["203.0.112.255", "203.0.114.0"]),  // TEST-NET-3
        ("224.0.0.0", "239.255.255.255", ["223.255.255.255"]),               // multicast
        ("240.0.0.0", "255.255.255.255", []),                                // reserved, broadcast
    ]

    func testIPv4BlockedRangeEdges() {
        for range in blockedV4 {
            XCTAssertFalse(AddressPolicy.isPublicIPv4(v4(range.first)), "\(range.first) is not public")
            XCTAssertFalse(AddressPolicy.isPublicIPv4(v4(range.last)), "\(range.last) is not public")
            for outside in range.outside {
                XCTAssertTrue(AddressPolicy.isPublicIPv4(v4(outside)), "\(outside) is public")
            }
        }
    }

    func testIPv4WellKnownAddresses() {
        for blocked in ["127.0.0.1", "169.254.169.254", "100.100.100.200", "10.0.0.1", "192.168.1.1", "172.16.0.1",
                        "0.0.0.0", "255.255.255.255", "224.0.0.251"] {
            XCTAssertFalse(AddressPolicy.isPublicIPv4(v4(blocked)), blocked)
        }
        for open in ["8.8.8.8", "1.1.1.1", "9.9.9.9", "93.184.216.34", "151.101.1.69"] {
            XCTAssertTrue(AddressPolicy.isPublicIPv4(v4(open)), open)
        }
    }

    // MARK: IPv6

    func testIPv6BlockedRanges() {
        let blocked = [
            "::", "::1",                                            // unspecified, loopback
            "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0", // IPv4-mapped
            "::127.0.0.1", "::8.8.8.8",                            // IPv4-compatible (deprecated)
            "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", // NAT64 of non-public IPv4
            "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:c0a8:101::", // 6to4 of non-public IPv4
            "2001::1", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",      // Teredo 2001::/32 edges
            "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", // documentation edges
            "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fd00:ec2::254", // unique local (AWS metadata)
            "fe80::", "fe80::1", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // link-local edges
            "fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",   // site-local (deprecated) edges
            "ff00::", "ff02::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", // multicast
        ]
        for text in blocked {
            XCTAssertFalse(AddressPolicy.isPublicIPv6(v6(text)), "\(text) is not public")
        }
    }

    func testIPv6PublicAddresses() {
        let open = [
            "2606:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", // translations of public IPv4
            "2001:1::1", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::1", // just outside Teredo / documentation
        ]
        for text in open {
            XCTAssertTrue(AddressPolicy.isPublicIPv6(v6(text)), "\(text) is public")
        }
    }

    func testIPv6WrongLengthIsNotPublic() {
        XCTAssertFalse(AddressPolicy.isPublicIPv6([]))
        XCTAssertFalse(AddressPolicy.isPublicIPv6(Array(v6("2606:4700::1111").prefix(15))))
    }

    /// RFC 8215 reserves 64:ff9b:1::/48 for local-use IPv4/IPv6 translation (IANA: not globally
    /// reachable); like the well-known 64:ff9b::/96 it carries an IPv4 address, here loopback,
    /// link-local metadata and RFC 1918 ones.
    func testLocalUseNAT64PrefixHidingPrivateIPv4IsNotPublic() {
        for text in ["64:ff9b:1::7f00:1", "64:ff9b:1::a9fe:a9fe", "64:ff9b:1::a00:1", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"] {
            XCTAssertFalse(AddressPolicy.isPublicIPv6(v6(text)), "\(text) (64:ff9b:1::/48, RFC 8215) is not public")
        }
    }

    // MARK: check(url:)

    func testLoopbackSpellingsAreRefused() {
        let policy = AddressPolicy()
        for url in ["http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/",
                    "http://0x7f000001/", "http://127.0.0.1:8080/clip.mp4", "http://[::1]/", "http://[::1]:8080/",
                    "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://0.0.0.0/", "http://0/",
                    "https://127.0.0.1/", "HTTP://127.0.0.1/", "http://127.0.0.1./"] {
            assertRefused(policy, url)
        }
    }

    func testPrivateAndMetadataAddressesAreRefused() {
        let policy = AddressPolicy()
        for url in ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/",
                    "http://100.64.0.1/", "http://100.100.100.200/", "http://[fd00:ec2::254]/", "http://[fe80::1]/",
                    "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::]/", "http://224.0.0.1/"] {
            assertRefused(policy, url, mentioning: "non-public")
        }
    }

    func testTheRefusalNamesTheAddress() {
        assertRefused(AddressPolicy(), "http://2130706433/", mentioning: "127.0.0.1")
        assertRefused(AddressPolicy(), "http://[::ffff:169.254.169.254]/", mentioning: "169.254.169.254")
    }

    func testHostTricksAreRefused() {
        let policy = AddressPolicy(allowedPrivateHosts: ["localhost"])
        for url in ["http://localhost@127.0.0.1/", "http://8.8.8.8@127.0.0.1/", "http://127.0.0.1#@8.8.8.8/",
                    "http://127.0.0.1?@8.8.8.8/"] {
            assertRefused(policy, url)
        }
    }

    func testOtherSchemesAndMalformedURLsAreRefused() {
        let policy = AddressPolicy(allowedPrivateHosts: ["localhost"])
        for url in ["file:///etc/passwd", "ftp://localhost/", "gopher://localhost/", "dict://localhost:11211/",
                    "ldap://localhost/", "sftp://localhost/", "tftp://localhost/x", "telnet://localhost/",
                    "javascript:alert(1)", "data:text/plain,hi", "localhost/clip.mp4", "//localhost/clip.mp4", "",
                    "http://", "http:///clip.mp4", "http://localhost:0/", "http://localhost:99999/",
                    "http://local host/", "http://localhost/\nx", "http://localhost/\u{7f}",
                    "http://" + String(repeating: "a", count: 5000) + ".com/"] {
            assertRefused(policy, url)
        }
    }

    func testLocalhostIsRefusedUnlessNamed() throws {
        assertRefused(AddressPolicy(), "http://localhost/clip.mp4", mentioning: "non-public")
        assertRefused(AddressPolicy(allowedPrivateHosts: ["example.com"]), "http://localhost:8080/")

        let allowed = AddressPolicy(allowedPrivateHosts: ["LocalHost"])
        let target = try allowed.check(url: "http://localhost:8080/clip.mp4?x=1")
        XCTAssertEqual(target.scheme, "http")
        XCTAssertEqual(target.host, "localhost")
        XCTAssertEqual(target.port, 8080)
        XCTAssertEqual(target.url, "http://localhost:8080/clip.mp4?x=1")
        XCTAssertFalse(target.addresses.isEmpty)
        XCTAssertEqual(target.addresses.count, target.addressStrings.count)
        XCTAssertTrue(target.addressStrings.allSatisfy { $0.hasPrefix("127.") || $0 == "::1" }, "\(target.addressStrings)")
        XCTAssertTrue(target.addresses.allSatisfy { !AddressPolicy.isPublic($0) })
        // Case and a trailing dot do not matter; the scheme's default port applies.
        XCTAssertEqual(try allowed.check(url: "https://LOCALHOST./").port, 443)
        XCTAssertEqual(try allowed.check(url: "http://localhost/").port, 80)
        // Naming localhost allows that name only, not loopback addresses.
        for url in ["http://127.0.0.1:8080/", "http://[::1]:8080/", "http://127.1/", "http://10.0.0.1/"] {
            assertRefused(allowed, url)
        }
    }

    func testPublicNumericHostsPass() throws {
        let policy = AddressPolicy()
        let a = try policy.check(url: "http://8.8.8.8/clip.mp4")
        XCTAssertEqual(a.host, "8.8.8.8")
        XCTAssertEqual(a.port, 80)
        XCTAssertEqual(a.addressStrings, ["8.8.8.8"])
        let b = try policy.check(url: "https://[2606:4700::1111]:8443/x")
        XCTAssertEqual(b.host, "2606:4700::1111")
        XCTAssertEqual(b.port, 8443)
        XCTAssertEqual(b.scheme, "https")
        XCTAssertEqual(b.addressStrings, ["2606:4700::1111"])
        XCTAssertTrue(b.addresses.allSatisfy(AddressPolicy.isPublic))
        XCTAssertEqual(try policy.check(url: "HTTPS://1.1.1.1/").scheme, "https")
    }

    func testMoreSpecialPurposeIPv6RangesAreNotPublic() {
        for text in ["100::1", "2001:2::1", "3fff::1", "3fff:fff::1"] {
            var bytes = [UInt8](repeating: 0, count: 16)
            XCTAssertEqual(inet_pton(AF_INET6, text, &bytes), 1, text)
            XCTAssertFalse(AddressPolicy.isPublicIPv6(bytes), text)
        }
        var publicBytes = [UInt8](repeating: 0, count: 16)
        _ = inet_pton(AF_INET6, "2001:4860:4860::8888", &publicBytes)
        XCTAssertTrue(AddressPolicy.isPublicIPv6(publicBytes))
    }
}
