import Domain
import Store
import Support
#if canImport(Glibc)
import Glibc
#endif

/// `--retention-days N`: at start and then every `interval` seconds, finished fetches (success
/// or failed) older than N days are deleted, rows first, then their stored files.
struct RetentionSweep {
    let settings: WorkerSettings
    let days: Int
    let stop: Flag
    var interval = 30

    func run() {
        var waited = interval
        while !stop.isSet {
            if waited >= interval {
                waited = 0
                sweep()
            }
            sleep(1)
            waited += 1
        }
    }

    func sweep() {
        do {
            let fetches = FetchService(db: try Databases.open(url: settings.databaseURL), storage: settings.storage)
            let removed = try fetches.expire(olderThan: Clock.system.now() - Int64(days) * 86_400)
            if !removed.isEmpty { logError("worker: retention: deleted \(removed.count) fetched file(s) older than \(days) days") }
        } catch {
            logError("worker: retention sweep failed (tried again later): \(error)")
        }
    }
}
