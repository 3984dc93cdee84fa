#if canImport(Glibc)
import Glibc
#endif

/// Where "now" comes from, in Unix seconds. Tests pass a fixed clock.
public struct Clock: Sendable {
    private let read: @Sendable () -> Int64

    public init(_ read: @escaping @Sendable () -> Int64) { self.read = read }

    public func now() -> Int64 { read() }

    public static let system = Clock { Int64(time(nil)) }
    public static func fixed(_ t: Int64) -> Clock { Clock { t } }
}
