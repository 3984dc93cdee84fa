import Domain

/// Immutable configuration shared by every thread.
struct StoreSettings: Sendable {
    let databasePath: String
    let storage: FileStorage
    /// Where nginx buffers upload bodies; a body file outside it is refused.
    let bodyDirectory: String
    /// Largest request body read into memory.
    let maxBodyBytes: Int
    /// Absolute base URL of the store server, for links in order emails.
    let publicURL: String
}
