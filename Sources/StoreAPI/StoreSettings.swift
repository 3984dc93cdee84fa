import Domain

/// Immutable configuration shared by every thread.
struct StoreSettings: Sendable {
    /// Where the store is: a URL for `Databases.open`.
    let databaseURL: String
    /// Where stored files are, and the local scratch space uploads are copied into first.
    let storage: any FileStore
    let scratch: ScratchSpace
    /// Where nginx buffers upload bodies; a body file outside it is refused.
    let bodyDirectory: String
    /// Largest request body read into memory.
    let maxBodyBytes: Int
    /// Absolute base URL of the store server, for links in order emails.
    let publicURL: String
}
