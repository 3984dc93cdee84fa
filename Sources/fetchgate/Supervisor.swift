import Crypto
import Dialect
import FastCGI
import Domain
import HTTPCore
import Media
import Support
import Foundation
import Store
import FileStores

/// `fetchgate serve`: renders the nginx config, migrates, makes sure the demo account
/// exists, starts nginx and every FastCGI process, restarts any that dies (within a
/// second), and on SIGINT/SIGTERM stops them all gracefully.
struct Supervisor {
    let paths: RunPaths
    let arguments: Arguments

    struct Child {
        let name: String
        let argv: [String]
        let stopSignal: Int32
        /// The listening socket every incarnation inherits (`--socket-fd 3`); nil for the worker and nginx.
        var socket: Int32? = nil
        var pid: pid_t = 0
        var startedAt: Double = 0
    }

    /// Every option `serve` takes (besides --run-dir, --database or --database-url, and --data): any other is refused.
    static let options: Set<String> = [
        "store-port", "media-port", "listen", "threads", "public-url", "media-public-url", "nginx", "nginx-template",
        "max-upload", "link-seconds", "smtp-url", "smtp-user", "smtp-password", "smtp-starttls", "mail-from",
        "mail-from-name", "allow-private-hosts", "job-lease", "job-poll-ms", "worker-concurrency", "worker-short-concurrency",
        "max-fetch-bytes",
        "fetch-timeout", "probe-timeout", "ffprobe", "temp-max-age", "temp-sweep-interval",
        "webhook-retry-scale", "downloader-account", "fetch-cap", "max-fetch-duration", "retention-days", "yt-dlp",
        "fetch-concurrency", "metadata-timeout", "job-cap", "master-key-file", "www",
        "allow-signup", "signup-limit", "node-name", "secrets-file",
    ]

    /// Refuses unknown options and malformed numbers before anything starts (exit status 2).
    static func checkOptions(_ arguments: Arguments) throws {
        let global: Set<String> = ["run-dir", "database", "database-url", "data", "storage-url", "storage-credentials-file"]
        for name in arguments.values.keys.sorted() where !options.contains(name) && !global.contains(name) {
            throw UsageError(message: "serve: unknown option --\(name)")
        }
        if arguments.positional.count > 1 {
            throw UsageError(message: "serve: unexpected argument \(arguments.positional[1])")
        }
        if let name = arguments["node-name"], !Log.isValidNodeName(name) {
            throw UsageError(message: "serve: --node-name needs 1 to 64 letters, digits, '.', '_' or '-', got '\(name)'")
        }
        if arguments.has("secrets-file") && arguments.has("master-key-file") {
            throw UsageError(message: "serve: --secrets-file holds the master key; give it or --master-key-file, not both")
        }
        for name in ["store-port", "media-port"] where arguments.has(name) {
            guard let port = arguments.int(name), (1...65535).contains(port) else {
                throw UsageError(message: "serve: --\(name) needs a port number (1-65535), got '\(arguments[name] ?? "")'")
            }
        }
        for name in ["temp-max-age", "temp-sweep-interval", "max-fetch-duration"] where arguments.has(name) {
            guard let seconds = arguments.int(name), seconds > 0 else {
                throw UsageError(message: "serve: --\(name) needs a whole number of seconds above 0, got '\(arguments[name] ?? "")'")
            }
        }
        if arguments.has("webhook-retry-scale") {
            guard let scale = arguments["webhook-retry-scale"].flatMap({ Double($0) }), scale > 0, scale.isFinite else {
                throw UsageError(message: "serve: --webhook-retry-scale needs a number above 0, got '\(arguments["webhook-retry-scale"] ?? "")'")
            }
        }
        for name in ["fetch-cap", "retention-days", "fetch-concurrency", "metadata-timeout", "job-cap", "signup-limit"] where arguments.has(name) {
            guard let number = arguments.int(name), (1...100_000).contains(number) else {
                throw UsageError(message: "serve: --\(name) needs a whole number from 1 to 100000, got '\(arguments[name] ?? "")'")
            }
        }
        // Values handed on to every dialect are checked by the dialects' own option table here,
        // at start: a value a dialect refuses would otherwise restart it once a second for good.
        let handedOn = Host.options.filter { Supervisor.handedToDialects.contains($0.name) }
        let given = handedOn.flatMap { option in arguments[option.name].map { ["--" + option.name, $0] } ?? [] }
        do { _ = try OptionTable(program: "serve", options: handedOn).parse(given) } catch {
            throw UsageError(message: error.message)
        }
    }

    /// `serve` options passed through to the dialects as they are.
    static let handedToDialects: Set<String> = ["threads", "link-seconds"]

    func run() throws {
        Log.setNode(arguments["node-name"])
        let fm = FileManager.default
        for dir in [paths.runDirectory, paths.logs, paths.nginxTemp, paths.bodyTemp] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let scratch = ScratchSpace(dataDirectory: paths.data)
        try scratch.prepare()
        // Opened once here so the directory nginx serves files from exists before nginx starts.
        _ = try FileStores.open(url: FileStores.localURL(dataDirectory: paths.data))
        // The configured store, opened once to refuse a bad URL or missing keys before anything starts.
        do { _ = try FileStores.open(url: paths.storageURL, credentialsFile: paths.storageCredentialsFile, scratch: scratch) } catch {
            throw SetupError("\(error)")
        }
        let storePort = arguments.int("store-port") ?? 8081
        let mediaPort = arguments.int("media-port") ?? 8080
        let listen = arguments["listen"] ?? "127.0.0.1"

        // Leftovers of processes killed mid-upload: at start, then every interval. The sweep
        // goes down into subdirectories, so scratch space covers nginx's body buffers in it.
        let sweeper = TempSweeper(directories: [scratch.directory, paths.nginxTemp],
                                  maxAge: Double(arguments.int("temp-max-age") ?? 3600))
        let sweepInterval = Double(arguments.int("temp-sweep-interval") ?? 3600)
        sweep(sweeper)
        var nextSweep = Supervisor.now() + sweepInterval

        // nginx's error log comes through here to have credentials masked.
        let errorLog = try ErrorLogRelay(socketPath: paths.errorLogSocket, logPath: paths.nginxErrorLog)

        // The signing secret and the master key: the nodes' shared secrets file, or this run
        // directory's own files (made on first start).
        let secretsFile = arguments["secrets-file"].map(RunPaths.absolute)
        let secrets: SharedSecrets?
        do { secrets = try secretsFile.map { try SharedSecrets.load(path: $0) } } catch { throw SetupError("\(error)") }
        let secret = try secrets?.signingSecret ?? Supervisor.signingSecret(at: paths.signingSecret)
        // Seals bucket secrets at rest (AES-256-GCM); made once, outside the database.
        let masterKey = secrets == nil ? RunPaths.absolute(arguments["master-key-file"] ?? paths.masterKey) : nil
        if let masterKey {
            do { _ = try MasterKey.load(path: masterKey, create: true) } catch { throw SetupError("\(error)") }
        }
        let template = arguments["nginx-template"] ?? NginxConfig.defaultTemplate()
        let www = RunPaths.absolute(arguments["www"] ?? NginxConfig.defaultWWW(template: template))
        guard FileManager.default.fileExists(atPath: www + "/index.html") else {
            throw SetupError("no dashboard at \(www) (its index.html): give --www DIR, the checkout's www/ folder")
        }
        let binDirectory = (Supervisor.executablePath() as NSString).deletingLastPathComponent
        let config = try NginxConfig(paths: paths, template: template, www: www,
                                     listen: listen, storePort: storePort, mediaPort: mediaPort,
                                     maxUpload: arguments["max-upload"] ?? "2g", maxBody: BodyLimit.defaultBytes,
                                     signer: URLSigner(secret: secret), storageLocations: try FileStores.nginxLocations(url: paths.storageURL),
                                     mediaRoutes: try NginxConfig.routeLines(of: .media, binDirectory: binDirectory,
                                                                             scratch: paths.runDirectory),
                                     pool: UpstreamPool(workers: UpstreamPool.defaultWorkers,
                                                        threads: arguments.int("threads").flatMap { $0 > 0 ? $0 : nil }
                                                            ?? FastCGI.Server.Configuration.defaultThreads))
        try config.write()
        let nginx = arguments["nginx"] ?? "nginx"
        let check = try Subprocess.run([nginx, "-t", "-q", "-p", paths.runDirectory, "-c", paths.nginxConfig])
        guard check == 0 else { throw SetupError("nginx -t rejected \(paths.nginxConfig)") }

        let db = try Databases.open(url: paths.databaseURL)
        let applied = try Schema.migrate(db)
        if !applied.isEmpty { log("migrated the schema: applied \(applied.map(String.init).joined(separator: ", "))") }
        let demo = try Demo(paths: paths, db: db).ensure()

        let threads = arguments["threads"].map { ["--threads", $0] } ?? []
        let publicURL = arguments["public-url"] ?? "http://\(listen):\(storePort)"
        try publicURL.write(toFile: paths.storePublicURL, atomically: true, encoding: .utf8)
        try (paths.storageURL + "\n" + (paths.storageCredentialsFile ?? "") + "\n")
            .write(toFile: paths.servedStorage, atomically: true, encoding: .utf8)
        // The admin CLI follows the database this serve uses (a URL may carry a password: 0600).
        try? FileManager.default.removeItem(atPath: paths.servedDatabase)
        if paths.databaseGiven {
            guard FileManager.default.createFile(atPath: paths.servedDatabase, contents: Data((paths.databaseURL + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw SetupError("cannot write \(paths.servedDatabase)")
            }
        }
        // Mail: SMTP when configured, else .eml files in run/outbox.
        var mail = ["--outbox", paths.runDirectory + "/outbox"]
        for option in ["smtp-url", "smtp-user", "smtp-password", "mail-from", "mail-from-name"] {
            if let value = arguments[option] { mail += ["--" + option, value] }
        }
        if arguments.has("smtp-starttls") { mail.append("--smtp-starttls") }
        // Tests name hosts (e.g. localhost) that may resolve to private addresses; production names none.
        let privateHosts = arguments["allow-private-hosts"].map { ["--allow-private-hosts", $0] } ?? []
        // Worker tuning: how long a claimed job's lease lasts without a heartbeat, how often it polls.
        var workerTuning: [String] = []
        if let lease = arguments["job-lease"] { workerTuning += ["--lease", lease] }
        if let poll = arguments["job-poll-ms"] { workerTuning += ["--poll-ms", poll] }
        for option in ["max-fetch-bytes", "fetch-timeout", "probe-timeout", "ffprobe", "webhook-retry-scale", "fetch-cap",
                       "max-fetch-duration", "retention-days", "fetch-concurrency"] {
            if let value = arguments[option] { workerTuning += ["--" + option, value] }
        }
        // yt-dlp runs in the worker (fetches) and in fetch-api (metadata): the checkout's pinned one by default.
        let ytdlp = arguments["yt-dlp"] ?? YTDLP.defaultExecutable(near: Supervisor.executablePath())
        let mediaURL = arguments["media-public-url"] ?? "http://\(listen):\(mediaPort)"
        workerTuning += ["--yt-dlp", ytdlp, "--media-public-url", mediaURL, "--wake-socket", paths.wakeSocket]
        let given = { (name: String) in name == "yt-dlp" ? ytdlp : name == "master-key-file" ? masterKey : arguments[name] }
        // Every process of the node: its name (log lines) and where the secrets are.
        let node = arguments["node-name"].map { ["--node-name", $0] } ?? []
        let signing = secretsFile.map { ["--secrets-file", $0] } ?? ["--signing-secret-file", paths.signingSecret]
        let sealing = secretsFile.map { ["--secrets-file", $0] } ?? masterKey.map { ["--master-key-file", $0] } ?? []
        let publicURLs: [DialectRow.Server: String] = [.store: publicURL, .media: mediaURL]
        // Every dialect takes the host's options (`Dialect/Host.swift`); the socket comes first.
        let hostOptions = paths.databaseOptions + paths.storageOptions + ["--data", paths.data, "--body-dir", paths.bodyTemp,
                           "--max-body", String(BodyLimit.defaultBytes)] + signing + node
                           + ["--link-seconds", arguments["link-seconds"] ?? "3600", "--wake-socket", paths.wakeSocket] + threads + privateHosts
        // Each dialect's socket is bound once, here, and handed to every process of the dialect: a
        // connection arriving while a killed one is restarted waits in the backlog instead of being
        // refused (nginx's 502), and nginx, started last, never finds a socket nobody listens on.
        // Close-on-exec: no other child gets it.
        let sockets = try DialectRow.all.map { dialect in
            let bound = try Server.listen(path: paths.socket(dialect), backlog: 1024)
            // Above 3, which is where spawn puts it in the child.
            let moved = fcntl(bound, F_DUPFD_CLOEXEC, 10)
            close(bound)
            guard moved >= 0 else { throw SetupError("cannot keep the socket of \(dialect.executable): \(String(cString: strerror(errno)))") }
            return moved
        }
        var children = zip(DialectRow.all, sockets).map { dialect, socket in
            Child(name: dialect.executable,
                  argv: [binDirectory + "/" + dialect.executable, "--socket", paths.socket(dialect),
                         "--socket-fd", String(Subprocess.passedDescriptor)] + hostOptions
                      + ["--public-url", publicURLs[dialect.server] ?? ""]
                      + dialect.ownOptions.flatMap { name in given(name).map { ["--" + name, $0] } ?? [] }
                      + dialect.ownFlags.filter { arguments.has($0) }.map { "--" + $0 } + ["--supervised"],
                  stopSignal: SIGTERM, socket: socket)
        }
        children += [
            Child(name: "worker", argv: [binDirectory + "/worker"] + paths.databaseOptions + paths.storageOptions + ["--data", paths.data,
                                         "--concurrency", arguments["worker-concurrency"] ?? "2",
                                         "--short-concurrency", arguments["worker-short-concurrency"] ?? "1"] + mail + privateHosts + workerTuning
                                         + sealing + node + ["--supervised"],
                  stopSignal: SIGTERM),
            Child(name: "nginx", argv: [nginx, "-p", paths.runDirectory, "-c", paths.nginxConfig], stopSignal: SIGQUIT),
        ]

        // Stop signals arrive through sigtimedwait; children get a clean mask.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGCHLD, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        errorLog.start()
        stopLeftoverNginx()
        for i in children.indices where children[i].name != "nginx" { try start(&children[i]) }
        for i in children.indices where children[i].name == "nginx" { try start(&children[i]) }
        printBanner(demo: demo, listen: listen, storePort: storePort, mediaPort: mediaPort)
        // The media tools fetches run on, as `fetchgate doctor` shows them.
        let ytdlpVersion = YTDLP(executable: ytdlp).version()
        print(Log.prefix + "fetchgate serve: yt-dlp \(ytdlpVersion ?? "MISSING (fetches will fail; run make deps)") (\(MediaTools.locate(ytdlp) ?? ytdlp)), "
              + "ffmpeg \(MediaTools.ffmpegVersion() ?? "MISSING") (\(MediaTools.locate("ffmpeg") ?? "ffmpeg"))")
        fflush(nil)

        var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        while true {
            let sig = sigtimedwait(&signals, nil, &timeout)
            if sig == SIGINT || sig == SIGTERM || sig == SIGHUP { break }
            // Reap and restart whatever exited.
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, WNOHANG)
                if pid <= 0 { break }
                guard let i = children.firstIndex(where: { $0.pid == pid }) else { continue }
                log("\(children[i].name) (pid \(pid)) exited with status \(status); restarting")
                children[i].pid = 0
            }
            for i in children.indices where children[i].pid == 0 {
                // A crash loop is slowed to one start per second.
                if Supervisor.now() - children[i].startedAt < 1 { continue }
                try? start(&children[i])
            }
            if Supervisor.now() >= nextSweep {
                sweep(sweeper)
                nextSweep = Supervisor.now() + sweepInterval
            }
        }
        log("stopping")
        for child in children where child.pid > 0 { kill(child.pid, child.stopSignal) }
        let deadline = Supervisor.now() + 15
        var alive = Set(children.map(\.pid).filter { $0 > 0 })
        while !alive.isEmpty && Supervisor.now() < deadline {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { alive.remove(pid) } else { usleep(50_000) }
        }
        for pid in alive { kill(pid, SIGKILL); waitpid(pid, nil, 0) }
        for (dialect, socket) in zip(DialectRow.all, sockets) {
            close(socket)
            unlink(paths.socket(dialect))
        }
        log("stopped")
    }

    private func start(_ child: inout Child) throws {
        let logPath = paths.logs + "/" + child.name + ".log"
        // Own process group: a terminal's Ctrl-C reaches only the supervisor, which stops children in order.
        child.pid = try Subprocess.spawn(child.argv, stdout: logPath, stderr: logPath, newProcessGroup: true, passing: child.socket)
        child.startedAt = Supervisor.now()
    }

    /// An nginx left running by a supervisor that was killed outright still holds the ports:
    /// ask it to quit (its pid file is in the run directory) before starting a new one.
    private func stopLeftoverNginx() {
        guard let text = try? String(contentsOfFile: paths.runDirectory + "/nginx.pid", encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
              let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
              command.contains("nginx"), command.contains(paths.nginxConfig) else { return }
        log("stopping nginx left from an earlier run (pid \(pid))")
        kill(pid, SIGQUIT)
        let deadline = Supervisor.now() + 10
        while kill(pid, 0) == 0 && Supervisor.now() < deadline { usleep(50_000) }
    }

    private func sweep(_ sweeper: TempSweeper) {
        let removed = sweeper.sweep()
        if removed > 0 { log("removed \(removed) stray temp file\(removed == 1 ? "" : "s") older than \(Int(sweeper.maxAge)) s") }
    }

    private func log(_ message: String) {
        logError("fetchgate serve: " + message)
    }

    private func printBanner(demo: (key: String, token: String), listen: String, storePort: Int, mediaPort: Int) {
        let store = "http://\(listen):\(storePort)"
        // Standard output that is no terminal is a log (a file, systemd's journal): no token goes there.
        guard isatty(1) == 1 else {
            print(Log.prefix + "fetchgate serve: store API \(store)/api/, media API http://\(listen):\(mediaPort)/, "
                  + "data \(paths.runDirectory); demo account credentials in \(paths.demoCredentials)")
            fflush(nil)
            return
        }
        print("""

        Fetchgate is running.
          store API (seed 004):  \(store)/api/
          media API:             http://\(listen):\(mediaPort)/
          data:                  \(paths.runDirectory)

        Demo account
          key:   \(demo.key)
          token: \(demo.token)

        Try:
          curl -s \(store)/api/account.xml -u \(demo.key):\(demo.token)
          curl -s http://\(demo.key):\(demo.token)@\(listen):\(storePort)/api/items
          curl -s -X POST \(store)/api/items/create -u \(demo.key):\(demo.token) -H 'Content-Type: application/xml' -d '<item><sku>NEW-1</sku><name>New item</name></item>'

        Ctrl-C stops everything.
        """)
        fflush(nil)
    }

    /// Reads the signing secret, creating it (random, 0600) on first start.
    static func signingSecret(at path: String) throws -> String {
        if let text = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), text.count >= 32 {
            return text
        }
        let secret = Digest.randomToken(length: 40)
        guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SetupError("cannot write \(path)")
        }
        return secret
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// A command line `serve` refuses (exit status 2).
struct UsageError: Error {
    let message: String
}
