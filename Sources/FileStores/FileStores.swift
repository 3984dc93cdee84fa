import Domain

/// Opens the file store a URL names, so that no dialect names one. `file:DIR` (local disk) is
/// the one kind now; S3-compatible and Azure stores add their schemes here and nowhere else.
public enum FileStores {
    /// The store at `url`, ready for use (a local directory is made if missing).
    /// `signingSecret` signs the links it hands out, in the processes that hand out links.
    public static func open(url: String, signingSecret: String? = nil) throws -> any FileStore {
        guard url.hasPrefix("file:"), url.count > "file:".count else {
            throw StorageError(description: "unsupported file store URL '\(url)': expected file:DIR")
        }
        let store = LocalDiskStore(directory: String(url.dropFirst("file:".count)), signingSecret: signingSecret)
        try store.prepare()
        return store
    }

    /// The local store of a data directory: its `files/`, which nginx serves.
    public static func localURL(dataDirectory: String) -> String { "file:" + dataDirectory + "/files" }
}
