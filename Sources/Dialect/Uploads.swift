import Domain
import HTTPCore
import Support
#if canImport(Glibc)
import Glibc
#endif

/// How every dialect's upload endpoints read a multipart body that nginx buffered to a file:
/// opened in place (400 when it is not multipart or malformed), one non-empty file part copied
/// into scratch space in the kernel, then handed to the domain, which puts it into the store.
/// A failed copy is a 507 (disk full and friends; the detail goes to the log); whatever fails,
/// no temp file is left behind.
public enum Uploads {
    public static func open<A: App>(_ call: Call<A>) throws -> MultipartBody {
        do {
            return try MultipartBody.open(call.request, bodyDirectory: call.app.host.bodyDirectory,
                                          scratchPath: call.app.host.scratch.temporaryPath())
        } catch let error as MultipartBody.Error {
            throw Failure.badRequest(error.message)
        }
    }

    /// Copies `part` to a fresh scratch path and calls `record` with it; removes the copy if
    /// `record` throws (on success the domain has moved it into the store).
    public static func receive<A: App, T>(_ part: Multipart.Part, of body: MultipartBody, _ call: Call<A>,
                                          _ record: (_ temporaryPath: String) throws -> T) throws -> T {
        guard part.bodyLength > 0 else { throw Failure.badRequest("The uploaded file is empty") }
        let temp = call.app.host.scratch.temporaryPath()
        do {
            try body.copy(part, to: temp)
        } catch {
            unlink(temp)
            logError("\(A.name): cannot store an upload: \(error)")
            throw Failure(status: 507, code: "storage_failed", message: MediaFileError(.storageFailed).message)
        }
        do {
            return try record(temp)
        } catch {
            unlink(temp)
            throw error
        }
    }
}
