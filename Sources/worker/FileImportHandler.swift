import Domain
import Foundation
import Outbound

/// Downloads a file's URL (stopped when the lease is lost), probes it, publishes it.
enum FileImportHandler: FileJobHandler {
    typealias Kind = FileImportJob

    static func process(_ file: MediaFile, _ lease: JobLease, in context: WorkerContext) throws {
        guard let url = file.sourceURL else {
            throw JobError.permanent("file \(file.id) has no source URL", reason: MediaFileError(.invalidURL))
        }
        let storage = context.settings.storage
        let temp = context.settings.scratch.path(named: "job-\(lease.job.id)")
        defer { unlink(temp) }
        let fetched: FetchResult
        do {
            fetched = try context.settings.fetcher.download(url, to: temp, shouldStop: { lease.isLost })
        } catch let error as OutboundError {
            throw JobError(outbound: error, reason: MediaFileError(outbound: error.reason))
        }
        try lease.check()
        guard fetched.sizeBytes > 0 else {
            // The URL itself stays out of the log: its query may carry a credential.
            throw JobError.permanent("the URL of file \(file.id) returned an empty body", reason: MediaFileError(.emptyFile))
        }
        let probe = try probe(path: temp, lease, file, in: context)
        let key = MediaFileService.storageKey(publicID: file.id, name: file.name)
        // The one rule for every way a file arrives (parameters of an origin's type dropped).
        let type = ContentTypes.normalize(fetched.contentType.map { String($0.prefix { $0 != ";" }) }, filename: file.name)
        var stillThere = true
        // Put once: on PostgreSQL the body runs again after a conflict, and the put moved the temp file.
        var put = false
        let completed = try context.queue.complete(lease) {
            if !put {
                do { try storage.put(temporaryPath: temp, key: key) } catch {
                    throw JobError.transient("\(error)", reason: MediaFileError(.storageFailed))
                }
                put = true
            }
            stillThere = try context.files.finish(publicID: file.id, storageKey: key, sizeBytes: fetched.sizeBytes,
                                                  contentType: type, probe: probe)
        }
        if completed && !stillThere { try? storage.remove(key: key) }
    }
}
