import Store

extension FetchService {
    /// Notes where a fetch's file went in its account's own bucket (`Fetch.objectKey`): the file is
    /// no longer kept here (`storage_key` cleared). Joins the caller's transaction (the worker's completion).
    public func recordUpload(publicID: String, objectKey: String) throws {
        _ = try db.write {
            try db.execute("UPDATE fetches SET object_key = ?, storage_key = NULL WHERE public_id = ?", [objectKey, publicID])
        }
    }

    /// Forgets a fetch's object key (its object was deleted from the bucket).
    public func clearUpload(publicID: String) throws {
        _ = try db.write { try db.execute("UPDATE fetches SET object_key = NULL WHERE public_id = ?", [publicID]) }
    }
}
