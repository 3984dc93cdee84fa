import BucketStore
import Domain
import Egress
import FetchViews
import Foundation
import Media
import Outbound
import Support

/// Acquires a fetch's media (`media.fetch`): yt-dlp in a directory of the job's own
/// (`tmp/fetch-<id>`), every socket it and its ffmpeg open going through an egress guard of the
/// run's own, then ffprobe, then the file put into the stored-bytes store (or uploaded to the
/// account's own bucket first), the fetch's success and its webhook committed with the job's
/// completion (fenced by the lease). A bucket upload that fails for now keeps the download in the
/// directory (`KeptDownload`): the next attempt uploads it without fetching the media again.
///
/// Stopping: the lease lost (the heartbeat) or the fetch cancelled — found by the fenced
/// progress write or, while yt-dlp prints nothing, a look at the job row every half second —
/// kills yt-dlp's whole process group. A re-run after a killed worker first kills what the dead
/// worker's yt-dlp left running in the same directory, then starts from an empty one.
enum MediaFetchHandler: JobHandler {
    typealias Kind = MediaFetchJob

    /// How often the job row is looked at, and progress written, while yt-dlp runs.
    static let checkInterval = 0.5

    static func run(_ fetchID: String, _ lease: JobLease, in context: WorkerContext) throws {
        let fetches = context.fetches
        guard try fetches.markRunning(publicID: fetchID, lease: lease), let fetch = try fetches.get(publicID: fetchID) else {
            try context.queue.complete(lease) // deleted or cancelled meanwhile: nothing to do
            return
        }
        let policy = context.settings.fetcher.policy
        // The URL again (it passed when created; a name may point elsewhere now). The generic
        // extractor, which follows whatever a page names, runs only for a host that passes.
        do { _ = try policy.check(url: fetch.url) } catch let error as OutboundError {
            throw JobError.permanent("fetch \(fetch.id): \(error.description)", reason: FetchFailure(refused: error))
        }
        let directory = context.settings.scratch.path(named: "fetch-" + fetch.id)
        // Kept (with the download) only when its upload to the account's bucket failed for now.
        var keepDirectory = false
        defer { if !keepDirectory { try? FileManager.default.removeItem(atPath: directory) } }
        let (result, ffprobe) = try KeptDownload.load(from: directory)
            ?? acquire(fetch, lease, directory: directory, in: context)
        let key = FetchService.storageKey(publicID: fetch.id, ext: result.ext)
        let stored = FetchedMedia(fetch: fetch, result: result, storageKey: key,
                                  contentType: ContentTypes.guess(filename: "x." + result.ext), ffprobe: ffprobe)
        // The account's own bucket, when it has one: uploaded and verified before the job completes
        // (a killed worker's retry uploads again; a multipart left behind is aborted first).
        let objectKey: String?
        do {
            objectKey = try uploadToBucket(fetch: fetch, localPath: result.path, in: context, shouldStop: { lease.isLost })
        } catch let error as JobError where error.retry == .transient {
            // The next attempt uploads this download instead of fetching the media again.
            keepDirectory = (try? KeptDownload(result, ffprobe: ffprobe).save(in: directory)) != nil
            throw error
        }
        try lease.check()
        // The files are put once: on PostgreSQL the transaction's body runs again after a conflict,
        // and a put moves its temporary file away (a second put would find none).
        var put = false
        var deleted = false
        try context.queue.complete(lease) {
            deleted = false
            guard try fetches.succeed(publicID: fetch.id, stored, objectKey: objectKey) else { // deleted meanwhile
                deleted = true
                return
            }
            if !put {
                do {
                    if objectKey == nil { try context.settings.storage.put(temporaryPath: result.path, key: key) }
                    for (file, sidecar) in zip(result.sidecars, stored.sidecars) {
                        try context.settings.storage.put(temporaryPath: file.path, key: sidecar.storageKey)
                    }
                } catch {
                    throw JobError.transient("fetch \(fetch.id): \(error)",
                                             reason: FetchFailure(code: .storageFailed, message: "the fetched file could not be stored"))
                }
                put = true
            }
            try announce(fetch.id, in: context)
        }
        // Put by an earlier run of the body, then found deleted by a later one: nothing names them now.
        if put && deleted {
            for storageKey in (objectKey == nil ? [key] : []) + stored.sidecars.map(\.storageKey) {
                try? context.settings.storage.remove(key: storageKey)
            }
        }
    }

    /// yt-dlp's download into `directory` behind an egress guard of the run's own (progress
    /// written and the lease looked at every half second), then ffprobe: the file and its probe JSON.
    static func acquire(_ fetch: Fetch, _ lease: JobLease, directory: String, in context: WorkerContext) throws
        -> (MediaDownloadResult, String?) {
        let fetches = context.fetches
        let media = context.settings.media
        let policy = context.settings.fetcher.policy
        YTDLP.killLeftovers(directory: directory)

        let egress = EgressGuard(policy: policy)
        do { _ = try egress.start() } catch {
            throw JobError.transient("fetch \(fetch.id): the egress guard could not start: \(error)",
                                     reason: FetchFailure(code: .internal, message: "the fetch could not start; it will be retried"))
        }
        defer { egress.stop() }

        var lastCheck = Date.distantPast
        var pending: FetchProgress?
        /// Writes the latest progress (fenced) or looks at the lease; false: stop.
        func stillHeld() -> Bool {
            if lease.isLost { return false }
            guard Date().timeIntervalSince(lastCheck) >= checkInterval else { return true }
            lastCheck = Date()
            let held: Bool?
            if let progress = pending {
                held = try? fetches.updateProgress(publicID: fetch.id, jobID: lease.job.id, leaseToken: lease.job.leaseToken ?? "",
                                                   progress)
                if held != nil { pending = nil }
            } else {
                held = try? context.queue.holds(lease.job)
            }
            // A busy database says nothing either way: look again at the next check.
            if held == false { lease.markLost() }
            return held != false
        }
        let outcome = media.ytdlp.download(
            url: fetch.url, preset: QualityPreset(rawValue: fetch.quality) ?? .best, options: MediaOptions(fetch.options), directory: directory,
            proxy: egress.proxyURL, allowGeneric: true, limits: media.limits,
            progress: { pending = FetchProgress($0) }, shouldStop: { !stillHeld() })
        try lease.check()
        let refused = egress.blocked
        let result: MediaDownloadResult
        switch outcome {
        case .failure(let error):
            let failure = refused.isEmpty ? FetchFailure(error) : FetchFailure(refused: refused)
            throw JobError(error.transient && refused.isEmpty ? .transient : .permanent,
                           "fetch \(fetch.id): \(failure.code.rawValue): \(error.message)", reason: failure)
        case .success(let downloaded):
            // yt-dlp skips an HLS segment it cannot get and still succeeds: a refusal fails the fetch.
            guard refused.isEmpty else {
                try? FileManager.default.removeItem(atPath: downloaded.path)
                let failure = FetchFailure(refused: refused)
                throw JobError.permanent("fetch \(fetch.id): \(failure.message)", reason: failure)
            }
            result = downloaded
        }
        _ = try? fetches.updateProgress(publicID: fetch.id, jobID: lease.job.id, leaseToken: lease.job.leaseToken ?? "",
                                        FetchProgress(step: .storing, percent: 100, bytes: result.sizeBytes, totalBytes: result.sizeBytes))
        let probe = context.settings.prober.probe(path: result.path, shouldStop: { lease.isLost })
        try lease.check()
        if let failure = probe.failure {
            logError("worker: job \(lease.job.id) (media.fetch) fetch \(fetch.id): no probe: \(failure.detail)")
        }
        return (result, probe.json)
    }

    /// The fetch learns the outcome: failed for good (its webhook queued), or pending again until the retry.
    static func failed(_ fetchID: String, _ lease: JobLease, _ error: JobError, final: Bool, in context: WorkerContext) {
        let failure = error.reason as? FetchFailure ?? FetchFailure(code: .internal, message: "the fetch failed")
        // Runs inside the job's fenced failure transaction (`JobQueue.fail`'s effects).
        try? context.fetches.fail(publicID: fetchID, code: failure.code.rawValue, message: failure.message, final: final)
        if final { try? announce(fetchID, in: context) }
    }

    /// Queues the fetch's webhook, its body the status object as it is now (in the caller's transaction).
    static func announce(_ fetchID: String, in context: WorkerContext) throws {
        guard let fetch = try context.fetches.get(publicID: fetchID) else { return }
        if fetch.origin == .jobs {
            let buckets = context.settings.sealer.map {
                AccountBuckets(db: context.db, sealer: $0, policy: context.settings.fetcher.policy)
            }
            return try JobWebhooks(db: context.db, storage: context.settings.storage, downloadBase: context.settings.media.publicURL,
                                   s3URL: { job in
                guard let buckets, let key = job.objectKey, let name = job.filename else { return nil }
                return try? buckets.presignedURL(accountID: job.accountID, objectKey: key, filename: name,
                                                 contentType: job.contentType ?? ContentTypes.guess(filename: name))
            }).announce(finished: fetch)
        }
        guard let url = fetch.webhookURL else { return }
        let body = FetchViews.status(fetch, downloadBase: context.settings.media.publicURL)
        try WebhookService(db: context.db).enqueue(accountID: fetch.accountID, subjectID: fetch.id, url: url,
                                                   body: String(decoding: body, as: UTF8.self))
    }
}

/// What a fetch shows when an attempt fails: a stable code and a readable message (no local path).
struct FetchFailure: Error, Sendable {
    let code: MediaFetchError.Code
    let message: String

    init(code: MediaFetchError.Code, message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: MediaFetchError) { self.init(code: error.code, message: error.message) }

    /// The guard refused connections: the addresses are not named (they may be internal).
    init(refused: [EgressGuard.Refusal]) {
        let hosts = Array(Set(refused.map(\.host))).sorted().prefix(3).joined(separator: ", ")
        self.init(code: .blockedAddress, message: "the media or a page it needs is on a non-public address (\(hosts)), which is refused")
    }

    /// The URL itself was refused before yt-dlp ran.
    init(refused error: OutboundError) {
        switch error.reason {
        case .blockedAddress: self.init(code: .blockedAddress, message: "the URL's host is on a non-public address, which is refused")
        case .unresolvable: self.init(code: .network, message: "the URL's host name does not resolve")
        default: self.init(code: .unsupportedURL, message: "the URL cannot be fetched")
        }
    }
}

extension FetchProgress {
    init(_ progress: MediaProgress) {
        let step: Fetch.Step = switch progress.step {
        case .downloading: .downloading
        case .merging: .merging
        case .converting: .converting
        }
        self.init(step: step, percent: progress.percent, bytes: progress.bytes, totalBytes: progress.totalBytes,
                  speed: progress.speed, eta: progress.eta.map(Int64.init))
    }
}

extension WorkerContext {
    var fetches: FetchService { FetchService(db: db, storage: settings.storage) }
}
