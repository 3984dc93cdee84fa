import Crypto
import Formats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Store

/// Files API: create (upload or URL import), list, show, delete; and the worker's side
/// (mark processing, finish, fail). Processing runs as queued jobs.
public struct MediaFileService {
    let db: any Database
    let storage: any FileStore
    let clock: Clock

    public init(db: any Database, storage: any FileStore, clock: Clock = .system) {
        self.db = db
        self.storage = storage
        self.clock = clock
    }

    /// Publishes an uploaded temp file and records it as `pending`, queueing its probe,
    /// in one transaction; on failure the bytes are removed again.
    public func createFromUpload(accountID: Int64, name rawName: String, temporaryPath: String, contentType: String?) throws -> MediaFile {
        let name = UploadService.sanitize(filename: rawName)
        guard !name.isEmpty else { throw DomainError.invalid("file name is required") }
        guard let size = ScratchSpace.size(ofPath: temporaryPath) else { throw DomainError.invalid("uploaded file is missing") }
        let publicID = MediaFileService.newID()
        let key = MediaFileService.storageKey(publicID: publicID, name: name)
        try storage.put(temporaryPath: temporaryPath, key: key)
        do {
            return try db.write {
                let now = clock.now()
                try db.execute("""
                    INSERT INTO media_files (public_id, account_id, name, source, status, size_bytes, content_type, storage_key,
                                             created_at, updated_at)
                    VALUES (?, ?, ?, 'upload', 'pending', ?, ?, ?, ?, ?)
                    """, [publicID, accountID, name, size, ContentTypes.normalize(contentType, filename: name), key, now, now])
                try count(accountID: accountID, by: 1)
                try JobQueue(db: db, clock: clock).enqueue(FileProbeJob.self, MediaFileJob(fileID: publicID),
                                                           accountID: accountID, maxAttempts: 3)
                return try get(publicID: publicID)!
            }
        } catch {
            try? storage.remove(key: key)
            throw error
        }
    }

    /// Records a URL import as `pending` and queues the download. The URL must already
    /// have passed the caller's SSRF check; the worker checks again at connect time.
    public func createFromURL(accountID: Int64, url: String, name: String?) throws -> MediaFile {
        let derived = name.map { UploadService.sanitize(filename: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            ?? MediaFileService.name(fromURL: url)
        let publicID = MediaFileService.newID()
        return try db.write {
            let now = clock.now()
            try db.execute("""
                INSERT INTO media_files (public_id, account_id, name, source, source_url, status, created_at, updated_at)
                VALUES (?, ?, ?, 'url', ?, 'pending', ?, ?)
                """, [publicID, accountID, derived, url, now, now])
            try count(accountID: accountID, by: 1)
            try JobQueue(db: db, clock: clock).enqueue(FileImportJob.self, MediaFileJob(fileID: publicID), accountID: accountID)
            return try get(publicID: publicID)!
        }
    }

    /// Newest first, with the account's total. A page with `after` starts below that cursor's row
    /// (an index range, whatever the depth); without it, at its offset. One row more than the page
    /// is read to tell whether more follow. The total is the account's counter (`media_files_count`,
    /// kept in the transactions that insert and delete files), not a count of rows.
    public func list(accountID: Int64, page: Page) throws -> Listing<MediaFile> {
        try .newestFirst(db, columns: MediaFile.selectList, from: "media_files", where: "account_id = ?", [accountID], page: page,
                         items: MediaFile.all, rowID: \.rowID) {
            try db.queryOne("SELECT media_files_count FROM accounts WHERE id = ?", [accountID])?.int("media_files_count") ?? 0
        }
    }

    public func get(accountID: Int64, id: String) throws -> MediaFile {
        guard let row = try db.queryOne("SELECT \(MediaFile.selectList) FROM media_files WHERE account_id = ? AND public_id = ?",
                                        [accountID, id]) else {
            throw DomainError.notFound("File \(id) not found")
        }
        return MediaFile(row: row)
    }

    public func get(publicID: String) throws -> MediaFile? {
        try db.queryOne("SELECT \(MediaFile.selectList) FROM media_files WHERE public_id = ?", [publicID]).map(MediaFile.init(row:))
    }

    /// Keeps `accounts.media_files_count` (the lists' total) in step, inside the caller's write.
    private func count(accountID: Int64, by change: Int) throws {
        try db.execute("UPDATE accounts SET media_files_count = media_files_count + ? WHERE id = ?", [change, accountID])
    }

    /// Removes the row and the bytes, and cancels work queued or running for it.
    public func delete(accountID: Int64, id: String) throws {
        let file = try db.write {
            let file = try get(accountID: accountID, id: id)
            try db.execute("DELETE FROM media_files WHERE id = ?", [file.rowID])
            try count(accountID: accountID, by: -1)
            try JobQueue(db: db, clock: clock).cancel(subjectID: file.id)
            return file
        }
        if let key = file.storageKey { try? storage.remove(key: key) }
    }

    // MARK: worker side

    /// `pending` → `processing`; false when the file is gone (deleted meanwhile).
    public func markProcessing(publicID: String) throws -> Bool {
        try db.write {
            try db.execute("UPDATE media_files SET status = 'processing', updated_at = ? WHERE public_id = ? AND status != 'ready'",
                           [clock.now(), publicID]) == 1
        }
    }

    public struct ProbeOutcome: Sendable {
        public var json: String?
        /// Why there is no probe; stored as its code only (see `MediaFileError`).
        public var error: MediaFileError?
        public init(json: String?, error: MediaFileError?) {
            self.json = json
            self.error = error
        }
    }

    /// The file is in place: record size, type and probe, and mark it `ready`. Joins the
    /// caller's transaction (the job's completion), so both commit together.
    public func finish(publicID: String, storageKey: String, sizeBytes: Int64, contentType: String?, probe: ProbeOutcome) throws -> Bool {
        try db.execute("""
            UPDATE media_files SET status = 'ready', storage_key = ?, size_bytes = ?,
                content_type = COALESCE(?, content_type, 'application/octet-stream'),
                ffprobe = ?, ffprobe_error = ?, error = NULL, updated_at = ?
            WHERE public_id = ?
            """, [storageKey, sizeBytes, contentType.flatMap(ContentTypes.validated), probe.json, probe.error?.stored, clock.now(), publicID]) == 1
    }

    /// A transient failure: back to `pending` (with the reason's code) until the job runs again.
    public func awaitRetry(publicID: String, error: MediaFileError) throws {
        try db.execute("UPDATE media_files SET status = 'pending', error = ?, updated_at = ? WHERE public_id = ? AND status = 'processing'",
                       [error.stored, clock.now(), publicID])
    }

    /// The file cannot be made ready: `failed`, with the reason's code (never a tool's text).
    public func fail(publicID: String, error: MediaFileError) throws {
        try db.execute("UPDATE media_files SET status = 'failed', error = ?, updated_at = ? WHERE public_id = ?",
                       [error.stored, clock.now(), publicID])
    }

    // MARK: helpers

    static func newID() -> String { "file_" + Digest.randomToken(length: 20) }

    /// `m/<id>.<ext>`: one key per file, so a re-run of an interrupted job writes the same place;
    /// the extension lets nginx pick the Content-Type.
    public static func storageKey(publicID: String, name: String) -> String {
        var ext = ""
        if let dot = name.lastIndex(of: "."), name.index(after: dot) < name.endIndex {
            let candidate = name[name.index(after: dot)...].lowercased()
            if candidate.count <= 8, candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) { ext = "." + candidate }
        }
        return "m/" + publicID + ext
    }

    static func name(fromURL url: String) -> String {
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        let last = path.split(separator: "/").last.map(String.init) ?? ""
        let cleaned = UploadService.sanitize(filename: PercentEncoding.decode(last))
        return cleaned.isEmpty || last.contains(":") ? "download" : cleaned
    }
}
