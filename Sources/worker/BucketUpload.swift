import BucketStore
import Buckets
import Crypto
import Domain
import Foundation

extension MediaFetchHandler {
    /// Uploads a finished fetch's file to its account's own bucket, if it has one, under
    /// `prefix + <fetch id>.<ext>`, and returns the object key (nil: no bucket, the file stays for
    /// the local store). The upload is verified (size, and the ETag where meaningful) before the
    /// local copy at `localPath` is removed; the caller records the key
    /// (`FetchService.succeed(…, objectKey:)`) in the completion's transaction. A re-run (a killed worker)
    /// uploads to the same key again, so the object appears once.
    ///
    /// Failures are `storage_failed` and leave the local file: transient ones (network, 5xx, a
    /// failed verification) are retried with the job; refused credentials, a missing bucket, a
    /// wrong region, a refused endpoint or secrets that no longer open fail the fetch now.
    static func uploadToBucket(fetch: Fetch, localPath: String, in context: WorkerContext,
                               shouldStop: @escaping () -> Bool = { false }) throws -> String? {
        func failure(_ retry: JobError.Retry, _ detail: String, _ message: String) -> JobError {
            JobError(retry, "fetch \(fetch.id): bucket upload: \(detail)", reason: FetchFailure(code: .storageFailed, message: message))
        }
        guard let sealer = context.settings.sealer else {
            guard try BucketService(db: context.db, sealer: NoSealer()).hasBucket(accountID: fetch.accountID) else { return nil }
            throw failure(.permanent, "the worker has no --master-key-file", "your bucket's secrets cannot be read by the worker")
        }
        let buckets = AccountBuckets(db: context.db, sealer: sealer, policy: context.settings.fetcher.policy)
        let ext = (localPath as NSString).pathExtension
        let contentType = fetch.contentType ?? ContentTypes.guess(filename: "x." + ext)
        let stored: StoredObject?
        do {
            stored = try buckets.upload(accountID: fetch.accountID, fetchID: fetch.id, ext: ext, localPath: localPath,
                                        contentType: contentType, shouldStop: shouldStop)
        } catch let error as BucketError {
            throw failure(error.transient ? .transient : .permanent, error.description,
                          "the file could not be uploaded to your bucket: \(error.message)")
        } catch let error as SecretBoxError {
            throw failure(.permanent, error.description, "your bucket's saved secrets cannot be opened; save the bucket again")
        }
        guard let stored else { return nil }
        try? FileManager.default.removeItem(atPath: localPath)
        return stored.key
    }
}

/// For asking whether a bucket exists, which opens no secret.
private struct NoSealer: SecretSealer {
    func seal(_ plaintext: String) -> String { preconditionFailure("nothing is sealed here") }
    func open(_ sealed: String) throws -> String { throw SecretBoxError("no master key") }
}
