import Store

extension FetchService {
    /// Forgets a fetch's object key (its object was deleted from the bucket).
    public func clearUpload(publicID: String) throws {
        _ = try db.write { try db.execute("UPDATE fetches SET object_key = NULL WHERE public_id = ?", [publicID]) }
    }
}
