import Domain
import Foundation
import Media
import Outbound
import Store
import Support

/// Files API work: import a URL (download, probe, publish) or probe an upload. Each job
/// writes to places derived from the file's id (scratch `job-<id>`, stored key `m/<file id>…`), so a
/// job re-run after a killed worker overwrites rather than duplicates; the file row and the
/// job's completion commit in one transaction, and only while the lease is held.
/// The file row gets codes only (`MediaFileError`); what ffprobe or curl said goes to the log.
struct FileJobs {
    let settings: WorkerSettings
    let db: any Database
    let queue: JobQueue

    init(_ loop: WorkerLoop) {
        settings = loop.settings
        db = loop.db
        queue = loop.queue
    }

    var files: MediaFileService { MediaFileService(db: db, storage: settings.storage) }

    var handler: WorkerLoop.Handler { WorkerLoop.Handler(run: run, failed: failed) }

    func run(_ job: Job) throws {
        guard let file = try files.get(publicID: job.payload), try files.markProcessing(publicID: file.id) else {
            _ = try queue.complete(job) // deleted meanwhile: nothing to do
            return
        }
        switch job.kind {
        case MediaFileService.importJobKind: try importURL(job, file)
        default: try probeStored(job, file)
        }
    }

    /// The job failed (its error is already logged): the file learns the outcome, failed for
    /// good or pending again until the retry.
    func failed(_ job: Job, _ failure: JobFailure, final: Bool) {
        _ = try? db.write {
            if final { try files.fail(publicID: job.payload, error: failure.problem) }
            else { try files.awaitRetry(publicID: job.payload, error: failure.problem) }
        }
    }

    private func importURL(_ job: Job, _ file: MediaFile) throws {
        guard let url = file.sourceURL else {
            throw JobFailure(MediaFileError(.invalidURL), transient: false, detail: "file \(file.id) has no source URL")
        }
        let storage = settings.storage
        let temp = settings.scratch.path(named: "job-\(job.id)")
        defer { unlink(temp) }
        let fetched = try settings.fetcher.download(url, to: temp)
        guard fetched.sizeBytes > 0 else {
            // The URL itself stays out of the log: its query may carry a credential.
            throw JobFailure(MediaFileError(.emptyFile), transient: false, detail: "the URL of file \(file.id) returned an empty body")
        }
        let probe = probe(path: temp, job: job, file: file)
        let key = MediaFileService.storageKey(publicID: file.id, name: file.name)
        let type = fetched.contentType.map { String($0.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces) }
        var stillThere = true
        let completed = try queue.complete(job) {
            do { try storage.put(temporaryPath: temp, key: key) } catch {
                throw JobFailure(MediaFileError(.storageFailed), transient: true, detail: "\(error)")
            }
            stillThere = try files.finish(publicID: file.id, storageKey: key, sizeBytes: fetched.sizeBytes,
                                          contentType: type.flatMap { $0.isEmpty || $0 == "application/octet-stream" ? nil : $0 }
                                              ?? ContentTypes.guess(filename: file.name),
                                          probe: probe)
        }
        if completed && !stillThere { try? storage.remove(key: key) }
    }

    private func probeStored(_ job: Job, _ file: MediaFile) throws {
        guard let key = file.storageKey else {
            throw JobFailure(MediaFileError(.processingFailed), transient: false, detail: "file \(file.id) has no stored bytes")
        }
        let outcome = try settings.storage.withLocalFile(key: key) { self.probe(path: $0, job: job, file: file) }
        try queue.complete(job) {
            _ = try files.finish(publicID: file.id, storageKey: key, sizeBytes: file.sizeBytes ?? 0, contentType: nil, probe: outcome)
        }
    }

    /// ffprobe's result; when there is none, its detail goes to the log and the file keeps the code.
    private func probe(path: String, job: Job, file: MediaFile) -> MediaFileService.ProbeOutcome {
        let outcome = settings.prober.probe(path: path)
        guard let failure = outcome.failure else { return .init(json: outcome.json, error: nil) }
        let problem = JobFailure.problem(failure)
        logError("worker: job \(job.id) (\(job.kind)) file \(file.id): no probe (\(problem.stored)): \(failure.detail)")
        return .init(json: nil, error: problem)
    }
}
