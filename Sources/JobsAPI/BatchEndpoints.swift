import Dialect
import Domain
import HTTPCore

/// `/batch/{id}`: status, renaming a paused batch's jobs, starting it.
enum BatchEndpoints {
    static func register(_ r: inout Routes<JobsApp>) {
        r.get("/batch/:id(uuid)", show)
        r.add(["PATCH"], "/batch/:id(uuid)/jobs", JobsApp.refusing(rename))
        r.post("/batch/:id(uuid)/start", JobsApp.refusing(start))
    }

    /// The batch status object: counts per job status, overall progress, the jobs.
    static let show: JobsEndpoint = { call in
        call.app.reply(try call.app.jobs.batch(accountID: call.accountID, id: call.capture("id")))
    }

    /// `{jobs: [{id, filename}, …]}` (at most 100): all renamed or none; 409 once the batch is started.
    static let rename: JobsEndpoint = { call in
        guard case .array(let items)? = call.params["jobs"], !items.isEmpty else {
            throw Failure.badRequest("jobs (a list of {id, filename}) is required")
        }
        guard items.count <= JobService.maxBulkURLs else {
            throw Failure.badRequest("jobs takes at most \(JobService.maxBulkURLs) entries")
        }
        let names = try items.enumerated().map { index, item in
            guard let id = item["id"]?.string, let filename = item["filename"]?.string else {
                throw Failure.badRequest("jobs[\(index)] needs an id and a filename")
            }
            return (id: id, filename: filename)
        }
        return call.app.reply(try call.app.jobs.rename(accountID: call.accountID, batchID: call.capture("id"), names))
    }

    /// A paused batch's jobs are queued (200, the batch); 409 when it is already started.
    static let start: JobsEndpoint = { call in
        call.app.reply(try call.app.context.db.write {
            let batch = try call.app.jobs.start(accountID: call.accountID, batchID: call.capture("id"))
            // A batch whose every job was cancelled while paused is complete as it starts.
            try call.app.webhooks.announce(batchID: batch.batch.id)
            return batch
        })
    }
}
