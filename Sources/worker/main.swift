import BucketStore
import Crypto
import Domain
import Media
import Outbound
import Store
import FileStores
import Support
#if canImport(Glibc)
import Glibc
#endif

// worker: runs queued jobs: order emails and webhooks, URL imports and ffprobe of files, media
// fetches (yt-dlp), in lanes (Domain's JobLane): each lane has threads of its own, so an order
// email never waits behind probes, nor a probe behind an hour-long fetch.
//   worker (--database run/fetchgate.sqlite | --database-url URL) --data run/data [--concurrency 2] [--short-concurrency 1]
//          [--allow-private-hosts localhost] [--max-fetch-bytes N] [--fetch-timeout S] [--probe-timeout S]
//          [--outbox run/outbox | --smtp-url smtp://host:port [--smtp-user U --smtp-password P] [--smtp-starttls]]
//          [--mail-from noreply@example.com] [--mail-from-name "Shop"] [--lease 60] [--poll-ms 500]
//          [--webhook-retry-scale 1] (multiplies the webhook retry schedule: tests only)
//          [--yt-dlp PATH] [--fetch-concurrency 4] [--fetch-cap 4] [--max-fetch-duration S] [--retention-days N]
//          [--media-public-url URL] [--wake-socket PATH] (the dialects nudge it after writes: jobs start at once)
//          [--master-key-file PATH] (opens the bucket secrets accounts saved)
//          [--secrets-file PATH] (the nodes' shared secrets: the master key comes from it)
//          [--node-name NAME] (every log line starts node=NAME)
//          [--storage-url file:DIR | s3://BUCKET/PREFIX?endpoint=URL&region=R] [--storage-credentials-file PATH] (default DATA/files)
let arguments = Arguments()
if arguments.has("supervised") { ParentWatch.stopWithParent() }
if let name = arguments["node-name"], !Log.isValidNodeName(name) {
    logError("worker: --node-name: 1 to 64 letters, digits, '.', '_' or '-'")
    exit(2)
}
Log.setNode(arguments["node-name"])
guard let database = Databases.url(given: arguments["database-url"], path: arguments["database"]) else {
    logError("usage: worker (--database PATH | --database-url URL) [--concurrency N] [--short-concurrency N] [--outbox DIR | --smtp-url URL …]")
    exit(2)
}

let mail: MailSettings
if let url = arguments["smtp-url"] {
    mail = MailSettings(transport: .smtp(SMTPSettings(url: url, username: arguments["smtp-user"],
                                                      password: arguments["smtp-password"],
                                                      startTLS: arguments.has("smtp-starttls"))),
                        from: arguments["mail-from"] ?? "noreply@fetchgate.local", fromName: arguments["mail-from-name"] ?? "Fetchgate")
} else {
    mail = MailSettings(transport: .outbox(MailOutbox(directory: arguments["outbox"] ?? "run/outbox")),
                        from: arguments["mail-from"] ?? "noreply@fetchgate.local", fromName: arguments["mail-from-name"] ?? "Fetchgate")
}

do {
    try Schema.migrate(Databases.open(url: database))
} catch {
    logError("worker: cannot open \(database): \(error)")
    exit(1)
}

let data = arguments["data"] ?? "run/data"
let scratch = ScratchSpace(dataDirectory: data)
let storage: any FileStore
do {
    try scratch.prepare()
    storage = try FileStores.open(url: arguments["storage-url"] ?? FileStores.localURL(dataDirectory: data),
                                  credentialsFile: arguments["storage-credentials-file"], scratch: scratch)
} catch {
    logError("worker: \(error)")
    exit(1)
}
let givenRetryScale = arguments["webhook-retry-scale"].map { Double($0) } ?? 1
guard let webhookRetryScale = givenRetryScale, webhookRetryScale > 0, webhookRetryScale.isFinite else {
    logError("worker: --webhook-retry-scale needs a number above 0, got '\(arguments["webhook-retry-scale"] ?? "")'")
    exit(2)
}
let policy = AddressPolicy(allowedPrivateHosts: Set((arguments["allow-private-hosts"] ?? "").split(separator: ",").map(String.init)))
let limits = FetchLimits(maxBytes: Int64(arguments.int("max-fetch-bytes") ?? (2 << 30)),
                         timeoutSeconds: arguments.int("fetch-timeout") ?? 600)
let wakeup: Wakeup?
do { wakeup = try arguments["wake-socket"].map { try Wakeup(path: $0) } } catch {
    logError("worker: \(error)")
    exit(1)
}
let media = MediaSettings(
    ytdlp: YTDLP(executable: arguments["yt-dlp"] ?? YTDLP.defaultExecutable(near: CommandLine.arguments[0])),
    limits: MediaLimits(maxBytes: limits.maxBytes, maxDurationSeconds: arguments.int("max-fetch-duration") ?? 4 * 3600,
                        wallSeconds: arguments.int("fetch-timeout") ?? 3600),
    publicURL: arguments["media-public-url"] ?? "", fetchCap: max(1, arguments.int("fetch-cap") ?? 4),
    retentionDays: arguments.int("retention-days"))
let sealer: SecretBoxSealer?
do {
    if let file = arguments["secrets-file"] {
        sealer = try SecretBoxSealer(masterKey: SharedSecrets.load(path: file).masterKey)
    } else {
        sealer = try arguments["master-key-file"].map { try SecretBoxSealer(masterKeyFile: $0) }
    }
} catch {
    logError("worker: \(error)")
    exit(1)
}
let settings = WorkerSettings(databaseURL: database, leaseSeconds: Int64(arguments.int("lease") ?? 60),
                              pollMilliseconds: arguments.int("poll-ms") ?? 500, wakeup: wakeup, mail: mail, storage: storage, scratch: scratch,
                              fetcher: HTTPFetcher(policy: policy, limits: limits),
                              prober: Prober(ffprobe: arguments["ffprobe"] ?? "ffprobe",
                                             timeoutSeconds: Double(arguments.int("probe-timeout") ?? 60)),
                              webhookRetryScale: webhookRetryScale, media: media, sealer: sealer)
/// Threads per lane: `--concurrency` for the long lane (probes, imports), `--<lane>-concurrency`
/// for the others (`--short-concurrency`); at least one each.
func threadCount(_ lane: JobLane) -> Int {
    max(1, arguments.int(lane == .long ? "concurrency" : lane.name + "-concurrency") ?? lane.defaultThreads)
}
let stop = Flag()
StopSignals.block()
var threads = JobLane.all.filter { !jobHandlers.kinds(in: $0).isEmpty }.flatMap { lane in
    (0..<threadCount(lane)).map { _ in WorkerThread { WorkerLoop(settings: settings, lane: lane, stop: stop).run() } }
}
if let days = media.retentionDays {
    threads.append(WorkerThread { RetentionSweep(settings: settings, days: days, stop: stop).run() })
}
StopSignals.wait()
stop.set()
wakeup?.stop() // ends the lane threads' waits now, not at their poll's end
for thread in threads { thread.join() }
