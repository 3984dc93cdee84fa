#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The SSRF guard: which URLs the service may fetch. Only http/https; the host is resolved
/// here and every address must be public (no loopback, private, link-local, CGNAT,
/// multicast, unspecified, documentation, cloud metadata, or IPv4 hidden in IPv6), whatever
/// spelling the URL used (`127.1`, `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, `0.0.0.0`).
/// Hosts named in `allowedPrivateHosts` (by name, e.g. `localhost` in tests) may resolve to
/// private addresses; production leaves that set empty.
public struct AddressPolicy: Sendable {
    public let allowedPrivateHosts: Set<String>

    public init(allowedPrivateHosts: Set<String> = []) {
        self.allowedPrivateHosts = Set(allowedPrivateHosts.map { $0.lowercased() })
    }

    /// A URL that passed the check, with the addresses it may connect to.
    public struct Target: Sendable {
        public let url: String
        public let scheme: String
        public let host: String
        public let port: Int
        public let addresses: [sockaddr_storage]
        public let addressStrings: [String]
    }

    public func check(url: String) throws -> Target {
        guard url.utf8.count <= 4096, !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f }),
              let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw OutboundError("not a valid URL", transient: false, reason: .invalidURL)
        }
        guard scheme == "http" || scheme == "https" else {
            throw OutboundError("only http and https URLs can be fetched", transient: false, reason: .invalidURL)
        }
        guard let rawHost = components.percentEncodedHost, !rawHost.isEmpty else {
            throw OutboundError("URL has no host", transient: false, reason: .invalidURL)
        }
        let host = AddressPolicy.normalized(host: rawHost)
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw OutboundError("bad port", transient: false, reason: .invalidURL) }

        let resolved = try checkedAddresses(host: host, port: port)
        return Target(url: url, scheme: scheme, host: host, port: port, addresses: resolved.map(\.address), addressStrings: resolved.map(\.text))
    }

    /// The one rule for every outbound connection (URL fetches here, the egress guard's proxied
    /// connections): resolve `host` once and return its addresses, each public unless the host is
    /// in `allowedPrivateHosts`. The caller connects only to one of these. Throws `.unresolvable`
    /// or `.blockedAddress`.
    public func checkedAddresses(host: String, port: Int) throws -> [(address: sockaddr_storage, text: String)] {
        let host = AddressPolicy.normalized(host: host)
        let resolved = try AddressPolicy.resolve(host: host, port: port)
        let allowPrivate = allowedPrivateHosts.contains(host)
        for (address, text) in resolved where !allowPrivate && !AddressPolicy.isPublic(address) {
            throw OutboundError("refusing to fetch from \(host): it resolves to the non-public address \(text)", transient: false,
                                reason: .blockedAddress)
        }
        return resolved.map { (address: $0.0, text: $0.1) }
    }

    /// Lowercase, without IPv6 brackets or a final dot: the spelling `allowedPrivateHosts` is matched against.
    static func normalized(host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host.removeLast() }
        return host
    }

    /// getaddrinfo, which also reads numeric shorthands (`127.1`, `0x7f.1`, `2130706433`) as the C library does.
    static func resolve(host: String, port: Int) throws -> [(sockaddr_storage, String)] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw OutboundError("cannot resolve \(host)", transient: rc == EAI_AGAIN, reason: .unresolvable)
        }
        defer { freeaddrinfo(first) }
        var result: [(sockaddr_storage, String)] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var storage = sockaddr_storage()
            if let address = entry.pointee.ai_addr {
                memcpy(&storage, address, Int(entry.pointee.ai_addrlen))
                if !result.contains(where: { $0.1 == AddressPolicy.text(storage) }) {
                    result.append((storage, AddressPolicy.text(storage)))
                }
            }
            cursor = entry.pointee.ai_next
        }
        guard !result.isEmpty, result.count <= 16 else {
            throw OutboundError("cannot resolve \(host)", transient: false, reason: .unresolvable)
        }
        return result
    }

    static func text(_ address: sockaddr_storage) -> String {
        var copy = address
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if Int32(copy.ss_family) == AF_INET {
            withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                var a = p.pointee.sin_addr
                _ = inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
            } }
        } else {
            withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                var a = p.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
            } }
        }
        return String(cString: buffer)
    }

    public static func isPublic(_ address: sockaddr_storage) -> Bool {
        var copy = address
        if Int32(copy.ss_family) == AF_INET {
            let value = withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) } }
            return isPublicIPv4(value)
        }
        if Int32(copy.ss_family) == AF_INET6 {
            let bytes = withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) }
            } }
            return isPublicIPv6(bytes)
        }
        return false
    }

    /// IPv4 in host byte order.
    public static func isPublicIPv4(_ a: UInt32) -> Bool {
        func inNet(_ net: UInt32, _ bits: UInt32) -> Bool { bits == 0 ? true : (a >> (32 - bits)) == (net >> (32 - bits)) }
        let blocked: [(UInt32, UInt32)] = [
            (0x0000_0000, 8),   // 0.0.0.0/8 "this network", unspecified
            (0x0A00_0000, 8),   // 10/8 private
            (0x6440_0000, 10),  // 100.64/10 CGNAT (also Alibaba metadata 100.100.100.200)
            (0x7F00_0000, 8),   // 127/8 loopback
            (0xA9FE_0000, 16),  // 169.254/16 link-local, cloud metadata 169.254.169.254
            (0xAC10_0000, 12),  // 172.16/12 private
            (0xC000_0000, 24),  // 192.0.0/24 IETF protocol assignments
            (0xC000_0200, 24),  // 192.0.2/24 TEST-NET-1
            (0xC058_6300, 24),  // 192.88.99/24 6to4 relay
            (0xC0A8_0000, 16),  // 192.168/16 private
            (0xC612_0000, 15),  // 198.18/15 benchmarking
            (0xC633_6400, 24),  // 198.51.100/24 TEST-NET-2
            (0xCB00_7100, 24),  // 203.0.113/24 TEST-NET-3
            (0xE000_0000, 4),   // 224/4 multicast
            (0xF000_0000, 4),   // 240/4 reserved, broadcast
        ]
        return !blocked.contains { inNet($0.0, $0.1) }
    }

    public static func isPublicIPv6(_ b: [UInt8]) -> Bool {
        guard b.count == 16 else { return false }
        func v4(_ offset: Int) -> UInt32 {
            UInt32(b[offset]) << 24 | UInt32(b[offset + 1]) << 16 | UInt32(b[offset + 2]) << 8 | UInt32(b[offset + 3])
        }
        let prefix10 = b[0..<10].allSatisfy { $0 == 0 }
        if prefix10 && b[10] == 0xff && b[11] == 0xff { return isPublicIPv4(v4(12)) } // ::ffff:a.b.c.d mapped
        if b[0..<12].allSatisfy({ $0 == 0 }) { return false }                        // ::, ::1, ::a.b.c.d compatible
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..<12].allSatisfy({ $0 == 0 }) {
            return isPublicIPv4(v4(12))                                               // 64:ff9b::/96 NAT64
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01 {
            return false                                                              // 64:ff9b:1::/48 local-use NAT64
        }
        if b[0] == 0x20 && b[1] == 0x02 { return isPublicIPv4(v4(2)) }                // 2002::/16 6to4
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00 { return false } // 2001::/32 Teredo
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 { return false } // 2001:db8::/32 documentation
        if b[0] == 0x01 && b[1] == 0x00 && b[2..<8].allSatisfy({ $0 == 0 }) { return false } // 100::/64 discard
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x02 && b[4] == 0x00 && b[5] == 0x00 {
            return false                                                              // 2001:2::/48 benchmarking
        }
        if b[0] == 0x3f && b[1] & 0xf0 == 0xf0 { return false }                       // 3fff::/20 documentation
        if b[0] & 0xfe == 0xfc { return false }                                       // fc00::/7 unique local (AWS metadata fd00:ec2::254)
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return false }                       // fe80::/10 link-local
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return false }                       // fec0::/10 site-local
        if b[0] == 0xff { return false }                                              // ff00::/8 multicast
        return true
    }
}
