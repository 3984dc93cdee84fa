import Domain
import Foundation

/// Immutable configuration shared by every thread.
struct FilesSettings: Sendable {
    /// Where the store is: a URL for `Databases.open`.
    let databaseURL: String
    /// Where stored files are, and the local scratch space uploads are copied into first.
    let storage: any FileStore
    let scratch: ScratchSpace
    let bodyDirectory: String
    let maxBodyBytes: Int
    /// Absolute base for `download_url`; empty gives paths.
    let publicURL: String
    /// Lifetime of signed download links.
    let linkSeconds: Int64
    /// Hosts that may resolve to private addresses (tests serve from loopback); empty in production.
    let allowedPrivateHosts: Set<String>
}

enum BodyFileText {
    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
