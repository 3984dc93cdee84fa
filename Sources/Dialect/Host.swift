import Crypto
import Domain
import FastCGI
import FileStores
import Store
import Formats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import HTTPCore
import Support

/// The process shell every dialect executable runs (`Host.run(StoreApp.self)` is its whole
/// `main.swift`): options from one table, the parent watch, storage and migration, then the
/// FastCGI server with one app per thread. `--routes` alone prints the dialect's routes and exits.
public enum Host {
    /// The options every dialect takes; a dialect adds its own (`App.options`).
    public static let options: [Option] = [
        Option("socket", placeholder: "PATH", required: true, help: "FastCGI unix socket to listen on"),
        Option("socket-fd", .integer(0...65535), placeholder: "N",
               help: "serve the socket inherited on descriptor N, already listening at --socket (fetchgate serve passes 3; it outlives the process)"),
        Option("database", placeholder: "PATH", help: "the SQLite store (same as --database-url sqlite:PATH)"),
        Option("database-url", placeholder: "URL", help: "the store, e.g. sqlite:PATH (one of --database and --database-url is required)"),
        Option("data", placeholder: "DIR", required: true, help: "stored files (DIR/files) and temp files (DIR/tmp)"),
        Option("storage-url", placeholder: "URL", help: "where stored files live: file:DIR (default DATA/files) or s3://BUCKET/PREFIX?endpoint=URL&region=R"),
        Option("storage-credentials-file", placeholder: "PATH", help: "the bucket's keys (key=…, secret=…; default AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"),
        Option("threads", .integer(0...1024), placeholder: "N", help: "request threads (0 or absent: two per core)"),
        Option("max-body", .integer(1...(1 << 30)), placeholder: "BYTES",
               help: "largest body read into memory (default \(BodyLimit.defaultBytes))"),
        Option("body-dir", placeholder: "DIR", help: "where nginx buffers bodies (default DATA/tmp/body)"),
        Option("public-url", placeholder: "URL", help: "absolute base of links the dialect hands out (default: paths)"),
        Option("signing-secret-file", placeholder: "PATH", help: "secret of signed /dl/ links (nginx secure_link)"),
        Option("secrets-file", placeholder: "PATH", help: "the nodes' shared secrets (signing secret and master key), mode 0600; instead of --signing-secret-file"),
        Option("node-name", placeholder: "NAME", help: "this node's name: every log line starts node=NAME; /healthz names it"),
        Option("link-seconds", .integer(1...(1 << 31)), placeholder: "SECONDS", help: "lifetime of signed links (default 3600)"),
        Option("allow-private-hosts", placeholder: "HOST,…", help: "hosts URL imports may reach on private addresses"),
        Option("wake-socket", placeholder: "PATH", help: "the worker's wake socket, nudged after each write (queued work starts at once)"),
        Option("supervised", .flag, help: "stop when the parent process (fetchgate serve) dies"),
    ]

    /// Runs the dialect until SIGTERM/SIGINT. A refused command line exits 2; storage, database
    /// or configuration that cannot be prepared exits 1 (one app is built before serving, so a
    /// dialect's own configuration errors show here). Later, a thread whose app cannot be built
    /// (its connection fails to open) logs why and answers 503 with `Retry-After: 1`, trying
    /// again at its next request: one bad moment never traps the process or a thread for good.
    public static func run<A: App>(_ app: A.Type) -> Never {
        if Array(CommandLine.arguments.dropFirst()) == ["--routes"] {
            for line in routeLines(A.routes.router) { print(line) }
            exit(0)
        }
        let table = OptionTable(program: A.name, options: options + A.options)
        let arguments = table.parseOrExit()
        if arguments.has("supervised") { ParentWatch.stopWithParent() }
        Log.setNode(arguments["node-name"])
        let settings: HostSettings
        do {
            settings = try HostSettings(arguments)
            try settings.scratch.prepare()
            let context = try AppContext(host: settings)
            try Schema.migrate(context.db)
            _ = try A(context)
        } catch {
            logError("\(A.name): cannot start: \(error)")
            exit(1)
        }
        let server = Server(configuration: .init(socketPath: settings.socketPath, threads: settings.threads,
                                                 maxBodyBytes: settings.maxBodyBytes, inheritedSocket: settings.socketDescriptor))
        do {
            try server.run { threadHandler(A.self, settings) }
        } catch {
            logError("\(A.name): \(error)")
            exit(1)
        }
        exit(0)
    }

    /// `--routes` alone: one `METHOD PATTERN` line per method of each route (`ANY` for a route
    /// that takes every method), in the router's matching order; the OpenAPI documents are
    /// checked against these lines (tests/integration/test_openapi.py).
    public static func routeLines<H>(_ router: Router<H>) -> [String] {
        router.routes.flatMap { route in (route.methods ?? ["ANY"]).map { $0 + " " + route.pattern } }
    }

    /// One thread's handler: its own app on its own connection, built again after a failure.
    static func threadHandler<A: App>(_: A.Type, _ settings: HostSettings) -> (Request) -> Response {
        var app: A?
        func build() -> A? {
            do {
                return try A(AppContext(host: settings))
            } catch {
                logError("\(A.name): cannot build the app of a request thread (answering 503): \(error)")
                return nil
            }
        }
        app = build()
        return { request in
            if app == nil { app = build() }
            if request.path == Health.path { return Health.reply(request, db: app?.context.db, settings) }
            guard let app else {
                var response = unavailable(A.self)
                A.Wire.finish(&response, for: request)
                return response
            }
            let response = app.handle(request)
            // A write may have queued a job: the worker claims it now rather than at its next poll.
            if response.status < 400 && request.method != "GET" && request.method != "HEAD" { settings.wake?.send() }
            return response
        }
    }

    static func unavailable<A: App>(_: A.Type) -> Response {
        A.Wire.failure(Failure(status: 503, code: "unavailable", message: "Service temporarily unavailable, retry shortly",
                               retryAfter: 1))
    }
}

/// Configuration every thread of a dialect process shares, read once from the host's options.
public struct HostSettings: Sendable {
    public let socketPath: String
    /// `--socket-fd`: the socket at `socketPath` inherited already listening; nil: the server binds it.
    public let socketDescriptor: Int32?
    /// Where the store is (`sqlite:PATH`): opened by `Databases.open(url:)`, the only place an engine is named.
    public let databaseURL: String
    /// Stored files' bytes (`--storage-url`: local disk or the operator's bucket; no dialect names which).
    public let storage: any FileStore
    /// Temp files (upload copies before they are put into `storage`).
    public let scratch: ScratchSpace
    /// Where nginx buffers bodies; a body file elsewhere is refused.
    public let bodyDirectory: String
    /// Largest request body read into memory.
    public let maxBodyBytes: Int
    /// 0: two per core.
    public let threads: Int
    /// Absolute base of the links the dialect hands out, without a trailing slash; "" gives paths.
    public let publicURL: String
    /// Signs `/dl/` links for nginx's `secure_link`; nil without `--signing-secret-file`.
    public let signer: URLSigner?
    /// Lifetime of signed links.
    public let linkSeconds: Int64
    /// Hosts that may resolve to private addresses (tests serve from loopback); empty in production.
    public let allowedPrivateHosts: Set<String>
    /// Nudges the worker after a write (`--wake-socket`); nil: the worker finds new jobs by polling.
    public let wake: WakeSender?
    /// The nodes' shared secrets (`--secrets-file`); nil without one.
    public let secrets: SharedSecrets?
    /// This node's name (`--node-name`), in `/healthz`; nil when it has none.
    public let nodeName: String?
    /// The whole command line, for a dialect's own options.
    public let arguments: Arguments

    public init(_ arguments: Arguments) throws {
        guard let socket = arguments["socket"], let data = arguments["data"],
              let database = Databases.url(given: arguments["database-url"], path: arguments["database"]) else {
            throw OptionError("--socket, --database (or --database-url) and --data are required")
        }
        socketPath = socket
        socketDescriptor = arguments.int("socket-fd").map { Int32($0) }
        databaseURL = database
        scratch = ScratchSpace(dataDirectory: data)
        bodyDirectory = arguments["body-dir"] ?? data + "/tmp/body"
        maxBodyBytes = arguments.int("max-body") ?? BodyLimit.defaultBytes
        threads = arguments.int("threads") ?? 0
        let url = arguments["public-url"] ?? ""
        publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        if let name = arguments["node-name"], !Log.isValidNodeName(name) {
            throw OptionError("--node-name: 1 to 64 letters, digits, '.', '_' or '-'")
        }
        nodeName = arguments["node-name"]
        secrets = try arguments["secrets-file"].map { try SharedSecrets.load(path: $0) }
        if let secrets {
            signer = URLSigner(secret: secrets.signingSecret)
        } else if let file = arguments["signing-secret-file"] {
            guard let secret = (try? String(contentsOfFile: file, encoding: .utf8)).map { Whitespace.trim($0) },
                  !secret.isEmpty else {
                throw OptionError("empty or unreadable signing secret in \(file)")
            }
            signer = URLSigner(secret: secret)
        } else {
            signer = nil
        }
        storage = try FileStores.open(url: arguments["storage-url"] ?? FileStores.localURL(dataDirectory: data), signingSecret: signer?.secret,
                                      credentialsFile: arguments["storage-credentials-file"], scratch: scratch)
        linkSeconds = Int64(arguments.int("link-seconds") ?? 3600)
        allowedPrivateHosts = Set((arguments["allow-private-hosts"] ?? "").split(separator: ",").map { String($0).lowercased() })
        wake = arguments["wake-socket"].flatMap { WakeSender(path: $0) }
        self.arguments = arguments
    }
}
