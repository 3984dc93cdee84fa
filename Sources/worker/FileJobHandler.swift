import Domain
import Support

/// What the Files API's jobs share. Each job writes to places derived from the file's id
/// (`tmp/job-<id>`, `files/m/<file id>…`), so a job re-run after a killed worker overwrites
/// rather than duplicates; the file row and the job's completion commit in one transaction,
/// and only while the lease is held. The file row gets codes only (`MediaFileError`); what
/// ffprobe or curl said goes to the log.
protocol FileJobHandler: JobHandler where Kind.Payload == MediaFileJob, Context == WorkerContext {
    /// The work on a file that is there and now `processing`.
    static func process(_ file: MediaFile, _ lease: JobLease, in context: WorkerContext) throws
}

extension WorkerContext {
    var files: MediaFileService { MediaFileService(db: db, storage: settings.storage) }
}

extension FileJobHandler {
    static func run(_ payload: MediaFileJob, _ lease: JobLease, in context: WorkerContext) throws {
        let files = context.files
        guard let file = try files.get(publicID: payload.fileID), try files.markProcessing(publicID: file.id) else {
            try context.queue.complete(lease) // deleted meanwhile: nothing to do
            return
        }
        try process(file, lease, in: context)
    }

    /// The file learns the outcome: failed for good, or pending again until the retry.
    static func failed(_ payload: MediaFileJob, _ lease: JobLease, _ error: JobError, final: Bool, in context: WorkerContext) {
        let problem = error.reason as? MediaFileError ?? MediaFileError(.processingFailed)
        let files = context.files
        _ = try? context.db.write {
            if final { try files.fail(publicID: payload.fileID, error: problem) }
            else { try files.awaitRetry(publicID: payload.fileID, error: problem) }
        }
    }

    /// ffprobe's result (stopped when the lease is lost); when there is none, its detail goes
    /// to the log and the file keeps the code.
    static func probe(path: String, _ lease: JobLease, _ file: MediaFile, in context: WorkerContext) throws
        -> MediaFileService.ProbeOutcome {
        let outcome = context.settings.prober.probe(path: path, shouldStop: { lease.isLost })
        try lease.check()
        guard let failure = outcome.failure else { return .init(json: outcome.json, error: nil) }
        let problem = MediaFileError(probe: failure)
        logError("worker: job \(lease.job.id) (\(lease.job.kind)) file \(file.id): no probe (\(problem.stored)): \(failure.detail)")
        return .init(json: nil, error: problem)
    }
}
