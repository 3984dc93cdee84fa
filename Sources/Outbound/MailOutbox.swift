#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The embedded default: each message becomes `<name>.eml` in a directory, written to a
/// temp file and renamed, so a reader never sees half a message and a retry overwrites.
public struct MailOutbox: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    @discardableResult
    public func deliver(_ message: MailMessage, name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bytes: [UInt8]
        do { bytes = try message.rendered() } catch { throw OutboundError("\(error)", transient: false) }
        let final = directory + "/" + name + ".eml"
        let temp = directory + "/." + name + ".eml.tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else {
            throw OutboundError("cannot write \(temp)", transient: true)
        }
        guard rename(temp, final) == 0 else {
            unlink(temp)
            throw OutboundError("cannot publish \(final)", transient: true)
        }
        return final
    }
}
