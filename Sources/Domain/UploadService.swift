import Crypto
import Store

/// Records files that arrived (HTTP upload or admin CLI) and lists them.
public struct UploadService {
    let db: any Database
    let storage: any FileStore
    let clock: Clock

    public init(db: any Database, storage: any FileStore, clock: Clock = .system) {
        self.db = db
        self.storage = storage
        self.clock = clock
    }

    /// Publishes a finished temp file and records it, atomically: the row appears only
    /// once the bytes are in place, and a failed insert removes the bytes again.
    public func record(accountID: Int64, filename rawName: String, contentType: String?,
                       temporaryPath: String, ipAddress: String) throws -> Upload {
        let filename = UploadService.sanitize(filename: rawName)
        guard !filename.isEmpty else { throw DomainError.invalid("filename is required") }
        guard let size = ScratchSpace.size(ofPath: temporaryPath) else { throw DomainError.invalid("uploaded file is missing") }
        let type = ContentTypes.normalize(contentType, filename: filename)
        let key = UploadService.newKey()
        try storage.put(temporaryPath: temporaryPath, key: key)
        do {
            return try db.write {
                let id = try db.insert("""
                    INSERT INTO uploads (account_id, filename, content_type, size_bytes, storage_key, ip_address, uploaded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """, [accountID, filename, type, size, key, ipAddress, clock.now()])
                return try get(accountID: accountID, id: id)
            }
        } catch {
            try? storage.remove(key: key)
            throw error
        }
    }

    /// A fresh storage key such as `ab/cdefgh…`, spread over 1024 directories.
    static func newKey() -> String {
        let token = Digest.randomToken(length: 26)
        return String(token.prefix(2)) + "/" + String(token.dropFirst(2))
    }

    public func get(accountID: Int64, id: Int64) throws -> Upload {
        guard let row = try db.queryOne("SELECT * FROM uploads WHERE account_id = ? AND id = ?", [accountID, id]) else {
            throw DomainError.notFound("upload \(id) not found")
        }
        return Upload(row: row)
    }

    public func list(accountID: Int64, page: Page) throws -> [Upload] {
        try OffsetWindow.rows(db, "SELECT * FROM uploads WHERE account_id = ?", [accountID], orderedBy: "id", descending: false,
                              page: page, count: "SELECT COUNT(*) AS n FROM uploads WHERE account_id = ?").map { Upload(row: $0) }
    }

    /// Keeps the last path component, drops control characters, caps at `FieldRules.maxFilenameBytes`.
    public static func sanitize(filename: String) -> String {
        let last = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var cleaned = String(String.UnicodeScalarView(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }))
        while cleaned.utf8.count > FieldRules.maxFilenameBytes { cleaned.removeLast() }
        return cleaned == "." || cleaned == ".." ? "" : cleaned
    }
}
