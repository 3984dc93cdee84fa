import Domain
import Foundation
import Outbound
import Store
import Support

/// One worker thread of one lane: claim a job of the lane's kinds, run it while a heartbeat
/// keeps the lease, complete or fail it — only while still holding the lease.
final class WorkerLoop {
    let settings: WorkerSettings
    let lane: JobLane
    let stop: Flag
    let db: any Database
    let queue: JobQueue

    init(settings: WorkerSettings, lane: JobLane, stop: Flag) {
        self.settings = settings
        self.lane = lane
        self.stop = stop
        db = try! Databases.open(url: settings.databaseURL)
        queue = JobQueue(db: db)
    }

    /// How each kind of job runs, and what its subject learns when it fails.
    struct Handler {
        let run: (Job) throws -> Void
        let failed: (Job, JobFailure, _ final: Bool) -> Void
    }

    /// The handler of every kind a lane lists (`JobLane`), made for one loop: one entry per kind.
    static let handlers: [String: @Sendable (WorkerLoop) -> Handler] = [
        OrderService.emailJobKind: { loop in Handler(run: loop.sendOrderEmail, failed: { _, _, _ in }) },
        MediaFileService.importJobKind: { loop in FileJobs(loop).handler },
        MediaFileService.probeJobKind: { loop in FileJobs(loop).handler },
    ]

    /// Kinds some lane lists that no handler runs (the worker refuses to start with any).
    static var kindsWithoutHandler: [String] {
        JobLane.all.flatMap(\.kinds).filter { handlers[$0] == nil }
    }

    func run() {
        let handlers = WorkerLoop.handlers.mapValues { $0(self) }
        while !stop.isSet {
            let job: Job?
            do {
                job = try queue.claim(lane: lane, leaseSeconds: settings.leaseSeconds)
            } catch {
                logError("worker: \(lane.name) lane: claim failed: \(error)")
                job = nil
            }
            guard let job else {
                usleep(UInt32(settings.pollMilliseconds) * 1000)
                continue
            }
            execute(job, handlers[job.kind])
        }
    }

    func execute(_ job: Job, _ handler: Handler?) {
        let heartbeat = Heartbeat(databaseURL: settings.databaseURL, job: job, leaseSeconds: settings.leaseSeconds)
        defer { heartbeat.stop() }
        do {
            guard let handler else {
                throw JobFailure(MediaFileError(.processingFailed), transient: false, detail: "no handler for job kind \(job.kind)")
            }
            try handler.run(job)
        } catch {
            let failure = JobFailure(error)
            logError("worker: job \(job.id) (\(job.kind)) attempt \(job.attempts) failed: \(failure.detail)")
            let final = !failure.transient || job.attempts >= job.maxAttempts
            handler?.failed(job, failure, final)
            _ = try? queue.fail(job, error: failure.detail, retryable: failure.transient)
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
        if try !queue.complete(job) { logError("worker: job \(job.id) lost its lease before completing") }
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
