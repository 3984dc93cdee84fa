import Domain

/// Probes an uploaded file's stored bytes.
enum FileProbeHandler: FileJobHandler {
    typealias Kind = FileProbeJob

    static func process(_ file: MediaFile, _ lease: JobLease, in context: WorkerContext) throws {
        guard let key = file.storageKey else {
            throw JobError.permanent("file \(file.id) has no stored bytes", reason: MediaFileError(.processingFailed))
        }
        let outcome = try context.settings.storage.withLocalFile(key: key) { try self.probe(path: $0, lease, file, in: context) }
        try context.queue.complete(lease) {
            _ = try context.files.finish(publicID: file.id, storageKey: key, sizeBytes: file.sizeBytes ?? 0, contentType: nil,
                                         probe: outcome)
        }
    }
}
