import Crypto
import Dialect
import Domain
import Support
import Foundation
import Store
import Media

// fetchgate: admin CLI and process supervisor.
let usage = """
usage: fetchgate COMMAND [options]     (options: --run-dir DIR, default ./run;
                                         or --database PATH | --database-url URL, --data DIR,
                                         --storage-url file:DIR|s3://BUCKET/PREFIX?endpoint=URL&region=R,
                                         --storage-credentials-file PATH; bucket keys otherwise from
                                         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; without a database
                                         or storage option, commands use what serve last used in DIR)
  serve [--store-port 8081] [--media-port 8080] [--listen 127.0.0.1] [--threads N] [--public-url URL]
        [--smtp-url smtp://host:port [--smtp-user U] [--smtp-password P] [--smtp-starttls]] [--mail-from ADDR]
        [--allow-private-hosts localhost] [--job-lease SECONDS] [--job-poll-ms MS]
        [--worker-concurrency N] [--worker-short-concurrency N] (threads for probes and imports; for emails)
        [--max-fetch-bytes N] [--fetch-timeout SECONDS] [--probe-timeout SECONDS] [--ffprobe PATH]
        [--webhook-retry-scale 1] (multiplies the webhook retry schedule: tests only)
        [--link-seconds 3600] (lifetime of signed download links)
        [--temp-max-age 3600] [--temp-sweep-interval 3600] (stray temp files: age in seconds, sweep period)
        [--yt-dlp PATH] [--fetch-concurrency 4] [--fetch-cap 4] (media fetches: threads; running per account)
        [--max-fetch-duration SECONDS] [--retention-days N] [--metadata-timeout 30] [--downloader-account KEY] (key-less seed 003 clients)
        [--job-cap 500] (seed 002 jobs one account may have pending or processing at once; more answer 429)
        [--master-key-file PATH] (seals bucket secrets; default RUN/master.key, made with mode 0600 on first start)
        [--www DIR] (the dashboard's static files, served at / on the media port; default the checkout's www/)
        [--allow-signup] [--signup-limit 5] (POST /api/account/create without credentials; attempts per address per hour)
        [--node-name N] (one of several nodes: every log line starts node=N, /healthz names it)
        [--secrets-file PATH] (the nodes' shared signing secret and master key, mode 0600; see secrets create)
                                 render nginx config, migrate, start nginx + FastCGI processes + worker, supervise
  migrate                        apply schema migrations
  migrate-data --from URL --to URL [--batch 1000]
                                 copy every row of one database into another (e.g. sqlite:… to postgresql://…),
                                 both migrated first; safe to run again (rows already there are kept); prints each
                                 table's rows on both sides, exit 1 when they differ. Stop the servers first.
  account create --name NAME [--email E] [--key KEY] [--token TOKEN]
  account list
  account set --key KEY [--order-expiration-hours H] [--download-limit N]
  key create --key EXISTING_KEY [--new-key K] [--label L]
  key list --key KEY
  key revoke REVOKED_KEY
  upload --key KEY FILE [--name NAME]
  order create --key KEY --skus SKU[,SKU…] [--id ID] [--email E] [--first-name F] [--last-name L]
               [--title T] [--download-limit N] [--no-email]
                                 a manual order (filter=manual in the API)
  demo                           create the demo account (if missing) and print its credentials
  webhook-secret --key KEY [--rotate]
                                 print the account's webhook signing secret (whsec_…), made on first use;
                                 --rotate replaces it first
  secrets create PATH [--from-run-dir]
                                 a new secrets file for several nodes (mode 0600, never over an existing
                                 file); --from-run-dir carries over this run directory's signing secret and
                                 master key (or --master-key-file's), so its links and sealed secrets stay good
  doctor [--yt-dlp PATH] [--ffmpeg PATH] [--ffprobe PATH]
                                 the media tools' versions and paths (exit 1 when yt-dlp is missing)
"""

let arguments = Arguments()
let command = arguments.positional.first ?? ""
let paths = RunPaths(arguments)

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data((Log.prefix + "fetchgate: " + message + "\n").utf8))
    exit(code)
}

func openDatabase() -> any Database {
    do {
        let db = try Databases.open(url: paths.databaseForCommands())
        try Schema.migrate(db)
        return db
    } catch {
        fail("cannot open database \(Databases.redacted(paths.databaseForCommands())): \(error)")
    }
}

func accountFor(key: String?, _ accounts: AccountService) -> Account {
    guard let key else { fail("--key KEY is required") }
    guard let account = try? accounts.account(apiKey: key) else { fail("no account has the active key \(key)") }
    return account
}

do {
    switch command {
    case "serve":
        try Supervisor.checkOptions(arguments)
        try Supervisor(paths: paths, arguments: arguments).run()
    case "migrate":
        let db = try Databases.open(url: paths.databaseForCommands())
        let applied = try Schema.migrate(db)
        print("schema at version \(try Migrator.currentVersion(db)); applied now: \(applied.map(String.init).joined(separator: ", "))")
    case "migrate-data":
        guard let from = arguments["from"], let to = arguments["to"] else { fail("migrate-data --from URL --to URL") }
        guard from != to else { fail("migrate-data: --from and --to name the same database") }
        let copy = DataCopy(from: try Databases.open(url: from), to: try Databases.open(url: to),
                            batchSize: arguments["batch"].flatMap { Int($0) } ?? 1_000)
        func line(_ cells: [String]) -> String {
            cells[0].padding(toLength: 20, withPad: " ", startingAt: 0) + cells.dropFirst().map { $0.leftPadded(to: 12) }.joined()
        }
        print(line(["table", "source", "target", "copied now"]))
        let counts = try copy.run { count in
            let mark = count.matches ? "" : count.source != count.target ? "  MISMATCH" : "  CHANGED (source written during the copy)"
            print(line([count.table, String(count.source), String(count.target), String(count.copied)]) + mark)
        }
        guard counts.allSatisfy(\.matches) else {
            fail("migrate-data: the target's rows differ from the source's (see above); with the servers stopped, run it again")
        }
        print("migrate-data: \(counts.count) tables, \(counts.reduce(0) { $0 + $1.target }) rows, all match")
    case "account":
        let accounts = AccountService(db: openDatabase())
        switch arguments.positional.dropFirst().first {
        case "create":
            guard let name = arguments["name"] else { fail("--name is required") }
            let (account, key, token) = try accounts.create(.init(name: name, email: arguments["email"] ?? ""),
                                                            apiKey: arguments["key"], token: arguments["token"])
            print("account \(account.id) created\nkey:   \(key)\ntoken: \(token)")
        case "list":
            for account in try accounts.list() {
                let keys = try accounts.credentials(accountID: account.id).filter { $0.revokedAt == nil }.map(\.apiKey)
                print("\(account.id)\t\(account.name)\t\(account.email)\tkeys: \(keys.joined(separator: ","))")
            }
        case "set":
            let account = accountFor(key: arguments["key"], accounts)
            try accounts.update(accountID: account.id,
                                orderExpirationInHours: arguments["order-expiration-hours"].flatMap { Int64($0) },
                                downloadLimitPerItem: arguments["download-limit"].flatMap { Int64($0) })
            print("account \(account.id) updated")
        default: fail(usage, code: 2)
        }
    case "key":
        let accounts = AccountService(db: openDatabase())
        switch arguments.positional.dropFirst().first {
        case "create":
            let account = accountFor(key: arguments["key"], accounts)
            let (key, token) = try accounts.addCredential(accountID: account.id, apiKey: arguments["new-key"],
                                                          label: arguments["label"] ?? "")
            print("key:   \(key)\ntoken: \(token)")
        case "list":
            let account = accountFor(key: arguments["key"], accounts)
            for c in try accounts.credentials(accountID: account.id) {
                print("\(c.apiKey)\t\(c.label)\t\(c.revokedAt == nil ? "active" : "revoked")")
            }
        case "revoke":
            guard let key = arguments.positional.dropFirst(2).first else { fail("key revoke KEY") }
            guard try accounts.revoke(apiKey: key) else { fail("no active key \(key)") }
            print("key \(key) revoked")
        default: fail(usage, code: 2)
        }
    case "upload":
        let db = openDatabase()
        let account = accountFor(key: arguments["key"], AccountService(db: db))
        guard let file = arguments.positional.dropFirst().first else { fail("upload --key KEY FILE") }
        let upload = try Uploader(paths: paths, db: db).upload(accountID: account.id, file: file, name: arguments["name"])
        print("upload \(upload.id): \(upload.filename) (\(upload.sizeBytes) bytes, \(upload.contentType))")
    case "order":
        guard arguments.positional.dropFirst().first == "create" else { fail(usage, code: 2) }
        let db = openDatabase()
        let account = accountFor(key: arguments["key"], AccountService(db: db))
        let skus = (arguments["skus"] ?? "").split(separator: ",").map { OrderItemInput(sku: String($0)) }
        let input = OrderInput(number: arguments["id"], title: arguments["title"], firstName: arguments["first-name"],
                               lastName: arguments["last-name"], email: arguments["email"],
                               downloadLimit: arguments["download-limit"].flatMap { Int64($0) }, items: skus,
                               sendEmail: !arguments.has("no-email"))
        // Links point where `serve` runs the store server (or --public-url).
        let served = (try? String(contentsOfFile: paths.storePublicURL, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let links = CustomerLinks(base: arguments["public-url"] ?? served ?? "http://127.0.0.1:8081")
        let order = try OrderService(db: db, customerLink: links.orderItem).create(accountID: account.id, input, manual: true)
        print("order \(order.number) created")
        for item in order.items {
            print("  \(item.sku): \(CustomerLinks.orderItemPath(guid: item.guid)) (\(item.downloadsRemaining) downloads)")
        }
    case "webhook-secret":
        let db = openDatabase()
        let account = accountFor(key: arguments["key"], AccountService(db: db))
        let webhooks = WebhookService(db: db)
        print(arguments.has("rotate") ? try webhooks.rotate(accountID: account.id) : try webhooks.secret(accountID: account.id))
    case "demo":
        let demo = try Demo(paths: paths, db: openDatabase()).ensure()
        print("key:   \(demo.key)\ntoken: \(demo.token)")
    case "secrets":
        guard arguments.positional.dropFirst().first == "create", let path = arguments.positional.dropFirst(2).first,
              arguments.positional.count == 3, (arguments["from-run-dir"] ?? "").isEmpty else {
            fail("secrets create PATH [--from-run-dir]", code: 2)
        }
        let secrets: SharedSecrets
        if arguments.has("from-run-dir") {
            guard let signing = try? String(contentsOfFile: paths.signingSecret, encoding: .utf8) else {
                fail("no signing secret at \(paths.signingSecret) to carry over")
            }
            let key = try MasterKey.load(path: RunPaths.absolute(arguments["master-key-file"] ?? paths.masterKey), create: false)
            secrets = try SharedSecrets(signingSecret: signing.trimmingCharacters(in: .whitespacesAndNewlines), masterKey: key)
        } else {
            secrets = SharedSecrets.random()
        }
        try secrets.create(path: path)
        print("secrets written to \(path) (mode 0600): copy it to every node, then fetchgate serve --secrets-file \(path)")
    case "doctor":
        let ytdlp = YTDLP(executable: arguments["yt-dlp"] ?? YTDLP.defaultExecutable(near: Supervisor.executablePath()))
        let version = ytdlp.version()
        print("yt-dlp\t\(version ?? "missing")\t\(MediaTools.locate(ytdlp.executable) ?? ytdlp.executable)")
        for (name, path) in [("ffmpeg", arguments["ffmpeg"] ?? "ffmpeg"), ("ffprobe", arguments["ffprobe"] ?? "ffprobe")] {
            print("\(name)\t\(MediaTools.ffmpegVersion(path) ?? "missing")\t\(MediaTools.locate(path) ?? path)")
        }
        if version == nil { fail("yt-dlp cannot run (make deps, or --yt-dlp PATH)") }
    default:
        fail(usage, code: 2)
    }
} catch let error as UsageError {
    fail(error.message + "\n" + usage, code: 2)
} catch let error as DomainError {
    fail(error.message)
} catch {
    fail("\(error)")
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
