import Domain
import Foundation
import Media
import Outbound
import Store

/// Files API work: import a URL (download, probe, publish) or probe an upload. Each job
/// writes to places derived from the file's id (scratch `job-<id>`, stored key `m/<file id>…`), so a
/// job re-run after a killed worker overwrites rather than duplicates; the file row and the
/// job's completion commit in one transaction, and only while the lease is held.
struct FileJobs {
    let settings: WorkerSettings
    let db: any Database
    let queue: JobQueue

    var files: MediaFileService { MediaFileService(db: db, storage: settings.storage) }

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

    private func importURL(_ job: Job, _ file: MediaFile) throws {
        guard let url = file.sourceURL else { throw OutboundError("file has no source URL", transient: false) }
        let storage = settings.storage
        let temp = settings.scratch.path(named: "job-\(job.id)")
        defer { unlink(temp) }
        let fetched = try settings.fetcher.download(url, to: temp)
        guard fetched.sizeBytes > 0 else { throw OutboundError("the URL returned an empty file", transient: false) }
        let probe = settings.prober.probe(path: temp)
        let key = MediaFileService.storageKey(publicID: file.id, name: file.name)
        let type = fetched.contentType.map { String($0.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces) }
        var stillThere = true
        let completed = try queue.complete(job) {
            try storage.put(temporaryPath: temp, key: key)
            stillThere = try files.finish(publicID: file.id, storageKey: key, sizeBytes: fetched.sizeBytes,
                                          contentType: type.flatMap { $0.isEmpty || $0 == "application/octet-stream" ? nil : $0 }
                                              ?? ContentTypes.guess(filename: file.name),
                                          probe: .init(json: probe.json, error: probe.error))
        }
        if completed && !stillThere { try? storage.remove(key: key) }
    }

    private func probeStored(_ job: Job, _ file: MediaFile) throws {
        guard let key = file.storageKey else { throw OutboundError("file has no stored bytes", transient: false) }
        let probe = try settings.storage.withLocalFile(key: key) { settings.prober.probe(path: $0) }
        try queue.complete(job) {
            _ = try files.finish(publicID: file.id, storageKey: key, sizeBytes: file.sizeBytes ?? 0, contentType: nil,
                                 probe: .init(json: probe.json, error: probe.error))
        }
    }
}
