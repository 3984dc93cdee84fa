import Domain
import Foundation
import HTTPCore
import Store
import FileStores

/// `fetchgate upload`: copies a local file into storage (kernel copy) and records it.
struct Uploader {
    let paths: RunPaths
    let db: any Database

    func upload(accountID: Int64, file: String, name: String?) throws -> Upload {
        let scratch = ScratchSpace(dataDirectory: paths.data)
        try scratch.prepare()
        let store = paths.storageForCommands()
        let storage = try FileStores.open(url: store.url, credentialsFile: store.credentialsFile, scratch: scratch)
        guard let size = ScratchSpace.size(ofPath: file) else { throw SetupError("cannot read \(file)") }
        let temp = scratch.temporaryPath()
        try Multipart.copyRange(fromFile: file, offset: 0, length: Int(size), toFile: temp)
        do {
            return try UploadService(db: db, storage: storage).record(
                accountID: accountID, filename: name ?? file, contentType: nil, temporaryPath: temp, ipAddress: "")
        } catch {
            _ = unlink(temp)
            throw error
        }
    }
}
