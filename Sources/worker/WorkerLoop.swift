import Domain
import Foundation
import Store
import Support

/// What a job's handler works with: the worker's settings and the thread's connection.
struct WorkerContext {
    let settings: WorkerSettings
    let db: any Database
    let queue: JobQueue
}

/// One worker thread of one lane: claim a job of the lane's kinds (`jobHandlers`), run it
/// while a heartbeat keeps the lease, complete or fail it — only while still holding the lease.
final class WorkerLoop {
    let settings: WorkerSettings
    let lane: JobLane
    let stop: Flag
    let context: WorkerContext

    init(settings: WorkerSettings, lane: JobLane, stop: Flag) {
        self.settings = settings
        self.lane = lane
        self.stop = stop
        let db = try! Databases.open(url: settings.databaseURL)
        context = WorkerContext(settings: settings, db: db, queue: JobQueue(db: db))
    }

    func run() {
        let kinds = jobHandlers.kinds(in: lane)
        var seen = settings.wakeup?.current ?? 0
        while !stop.isSet {
            // Read before the claim: a nudge that comes while it runs is not lost.
            let before = settings.wakeup?.current ?? 0
            let job: Job?
            do {
                job = try context.queue.claim(kinds: kinds, leaseSeconds: settings.leaseSeconds,
                                              perAccountCap: lane == .fetch ? settings.media.fetchCap : nil)
            } catch {
                logError("worker: \(lane.name) lane: claim failed: \(error)")
                job = nil
            }
            guard let job else {
                // Until a dialect's nudge (a write that may have queued a job) or the poll interval.
                if let wakeup = settings.wakeup {
                    seen = before
                    wakeup.wait(milliseconds: settings.pollMilliseconds, since: &seen)
                } else {
                    usleep(UInt32(settings.pollMilliseconds) * 1000)
                }
                continue
            }
            let lease = JobLease(job)
            let heartbeat = Heartbeat(databaseURL: settings.databaseURL, lease: lease, leaseSeconds: settings.leaseSeconds)
            jobHandlers.execute(lease, context: context, queue: context.queue) { logError("worker: " + $0) }
            heartbeat.stop()
        }
    }
}

/// Extends a running job's lease every third of its length, on its own thread; when the
/// lease is found lost, marks it so (the handler stops) and ends. Its connection is opened at
/// the first beat, so a job shorter than that costs no connection; `stop` ends it at once.
final class Heartbeat: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var thread: WorkerThread?

    init(databaseURL: String, lease: JobLease, leaseSeconds: Int64) {
        let interval = Double(max(1, leaseSeconds / 3))
        thread = WorkerThread { [self] in
            var queue: JobQueue?
            while waitUnlessStopped(seconds: interval) {
                // An error (a busy database, no connection yet) is tried again at the next beat.
                if queue == nil { queue = try? JobQueue(db: Databases.open(url: databaseURL)) }
                if let queue, (try? queue.heartbeat(lease, leaseSeconds: leaseSeconds)) == false { return }
            }
        }
    }

    /// Waits `seconds`; false when stopped before or meanwhile.
    private func waitUnlessStopped(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !stopped && condition.wait(until: deadline) {}
        return !stopped
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        thread?.join()
    }
}
