import Domain
import Foundation
import Outbound
import Store
import Support

/// One worker thread: claim a job, run it while a heartbeat keeps the lease, complete or
/// fail it — only while still holding the lease.
final class WorkerLoop {
    let settings: WorkerSettings
    let stop: Flag
    let db: any Database
    let queue: JobQueue

    init(settings: WorkerSettings, stop: Flag) {
        self.settings = settings
        self.stop = stop
        db = try! Databases.open(url: settings.databaseURL)
        queue = JobQueue(db: db)
    }

    static let kinds = [OrderService.emailJobKind, MediaFileService.importJobKind, MediaFileService.probeJobKind]

    func run() {
        while !stop.isSet {
            let job: Job?
            do {
                job = try queue.claim(kinds: WorkerLoop.kinds, leaseSeconds: settings.leaseSeconds)
            } catch {
                logError("worker: claim failed: \(error)")
                job = nil
            }
            guard let job else {
                usleep(UInt32(settings.pollMilliseconds) * 1000)
                continue
            }
            execute(job)
        }
    }

    func execute(_ job: Job) {
        let heartbeat = Heartbeat(databaseURL: settings.databaseURL, job: job, leaseSeconds: settings.leaseSeconds)
        defer { heartbeat.stop() }
        do {
            switch job.kind {
            case OrderService.emailJobKind:
                try sendOrderEmail(job)
                if try !queue.complete(job) { logError("worker: job \(job.id) lost its lease before completing") }
            case MediaFileService.importJobKind, MediaFileService.probeJobKind:
                try FileJobs(settings: settings, db: db, queue: queue).run(job)
            default:
                throw OutboundError("no handler for job kind \(job.kind)", transient: false)
            }
        } catch {
            let transient = (error as? OutboundError)?.transient ?? true
            let text = (error as? OutboundError)?.description ?? "\(error)"
            logError("worker: job \(job.id) (\(job.kind)) attempt \(job.attempts) failed: \(text)")
            let final = !transient || job.attempts >= job.maxAttempts
            // The job's subject learns the outcome: failed for good, or pending again until the retry.
            if job.kind == MediaFileService.importJobKind || job.kind == MediaFileService.probeJobKind {
                let files = MediaFileService(db: db, storage: settings.storage)
                _ = try? db.write {
                    if final { try files.fail(publicID: job.payload, error: text) }
                    else { try files.awaitRetry(publicID: job.payload, error: "will retry: " + text) }
                }
            }
            _ = try? queue.fail(job, error: text, retryable: transient)
        }
    }

    func sendOrderEmail(_ job: Job) throws {
        let email: OrderEmail
        do { email = try OrderEmail.decode(job.payload) } catch { throw OutboundError("unreadable email payload", transient: false) }
        let message = MailMessage(from: settings.mail.from, fromName: settings.mail.fromName, to: email.to, toName: email.toName,
                                  subject: email.subject, body: email.body, messageID: "job-\(job.id)@fetchgate")
        switch settings.mail.transport {
        case .smtp(let smtp): try SMTPClient(settings: smtp).send(message)
        case .outbox(let outbox): try outbox.deliver(message, name: "order-\(email.orderNumber)-job-\(job.id)")
        }
    }
}

/// Extends a running job's lease every third of its length, on its own connection and thread.
final class Heartbeat: @unchecked Sendable {
    private let done = Flag()
    private var thread: WorkerThread?

    init(databaseURL: String, job: Job, leaseSeconds: Int64) {
        let done = self.done
        thread = WorkerThread {
            guard let db = try? Databases.open(url: databaseURL) else { return }
            let queue = JobQueue(db: db)
            let interval = max(1, leaseSeconds / 3)
            var waited: Int64 = 0
            while !done.isSet {
                usleep(100_000)
                waited += 100
                if waited >= interval * 1000 {
                    waited = 0
                    if (try? queue.heartbeat(job, leaseSeconds: leaseSeconds)) != true { return }
                }
            }
        }
    }

    func stop() {
        done.set()
        thread?.join()
    }
}
