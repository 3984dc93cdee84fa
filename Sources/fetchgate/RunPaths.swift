import Support
import Foundation
import Store
import FileStores

/// Where a deployment keeps its state: database, data directory, sockets, logs, nginx config.
struct RunPaths {
    let runDirectory: String
    /// The store as `--database-url URL`, or `--database PATH` (default: `fetchgate.sqlite` in the run directory).
    let databaseURL: String
    /// How the children are told where the store is: the option it was given by.
    let databaseOptions: [String]
    let data: String
    /// Where stored files live (`--storage-url`, default `file:DATA/files`), and how the children
    /// are told (with `--storage-credentials-file`; keys in the environment reach them as they are).
    let storageURL: String
    let storageCredentialsFile: String?
    /// Whether `--storage-url` was given (else the CLI's uploads follow `lastServedStorage`).
    let storageGiven: Bool
    /// Whether `--database-url` or `--database` was given (else the CLI follows `servedDatabase`).
    let databaseGiven: Bool
    var storageOptions: [String] {
        ["--storage-url", storageURL] + (storageCredentialsFile.map { ["--storage-credentials-file", $0] } ?? [])
    }

    init(_ arguments: Arguments) {
        let run = RunPaths.absolute(arguments["run-dir"] ?? "run")
        runDirectory = run
        if let url = arguments["database-url"] {
            databaseURL = url
            databaseOptions = ["--database-url", url]
        } else {
            let path = RunPaths.absolute(arguments["database"] ?? run + "/fetchgate.sqlite")
            databaseURL = Databases.url(path: path)
            databaseOptions = ["--database", path]
        }
        data = RunPaths.absolute(arguments["data"] ?? run + "/data")
        storageURL = arguments["storage-url"] ?? FileStores.localURL(dataDirectory: data)
        storageCredentialsFile = arguments["storage-credentials-file"].map(RunPaths.absolute)
        storageGiven = arguments.has("storage-url")
        databaseGiven = arguments.has("database-url") || arguments.has("database")
    }

    var logs: String { runDirectory + "/logs" }
    /// A dialect's FastCGI socket.
    func socket(_ dialect: DialectRow) -> String { runDirectory + "/" + dialect.name + ".sock" }
    /// The secret shared by nginx (`secure_link_md5`) and files-api; made once, mode 0600.
    var signingSecret: String { runDirectory + "/secure-link.secret" }
    /// The master key sealing bucket secrets (32 random bytes, mode 0600), unless `--master-key-file` names another.
    var masterKey: String { runDirectory + "/master.key" }
    var nginxConfig: String { runDirectory + "/nginx.conf" }
    var bodyTemp: String { data + "/tmp/body" }
    /// nginx's error log arrives here (a unix datagram socket) to have credentials masked.
    var errorLogSocket: String { runDirectory + "/nginx-log.sock" }
    /// The worker listens here; the dialects nudge it after writes (queued jobs start at once).
    var wakeSocket: String { runDirectory + "/worker.wake" }
    var nginxErrorLog: String { logs + "/nginx-error.log" }
    /// nginx's temp directories outside the data volume (bodies of non-upload requests, buffers).
    var nginxTemp: String { runDirectory + "/nginx-temp" }
    var demoCredentials: String { runDirectory + "/demo-credentials" }
    /// The store server's public base URL as `serve` last started it (links in order emails).
    var storePublicURL: String { runDirectory + "/store-public-url" }
    /// The store `serve` last started with: its URL, then its credentials file or an empty line.
    var servedStorage: String { runDirectory + "/storage-url" }
    /// The database URL `serve` last started with, when it was given one (mode 0600: it may hold a password).
    var servedDatabase: String { runDirectory + "/database-url" }

    /// The database the admin CLI works on: the one on its command line, else the one `serve` last
    /// started with in this run directory (so `fetchgate account create` on a node served from
    /// PostgreSQL never writes to a local SQLite file the server cannot see), else the default.
    func databaseForCommands() -> String {
        guard !databaseGiven, let text = try? String(contentsOfFile: servedDatabase, encoding: .utf8) else { return databaseURL }
        let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return url.isEmpty ? databaseURL : url
    }

    /// Where the admin CLI puts files: the store given on its command line, else the one `serve`
    /// last started with in this run directory (so `fetchgate upload` never puts a file on local
    /// disk that a bucket-backed server cannot see), else the local store.
    func storageForCommands() -> (url: String, credentialsFile: String?) {
        guard !storageGiven, let text = try? String(contentsOfFile: servedStorage, encoding: .utf8) else {
            return (storageURL, storageCredentialsFile)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let url = lines.first, !url.isEmpty else { return (storageURL, storageCredentialsFile) }
        let credentials = lines.count > 1 && !lines[1].isEmpty ? lines[1] : nil
        return (url, credentials)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
