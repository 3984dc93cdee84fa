import Domain
import FastCGI
import Store
import FileStores
import Support
#if canImport(Glibc)
import Glibc
#endif

// files-api: the Files dialect (seed 001) over FastCGI, JSON.
//   files-api --socket run/files.sock (--database run/fetchgate.sqlite | --database-url URL) --data run/data
//             --signing-secret-file run/secure-link.secret [--threads N] [--body-dir DIR]
//             [--public-url http://127.0.0.1:8080] [--link-seconds 3600] [--allow-private-hosts h1,h2]
let arguments = Arguments()
if arguments.has("supervised") { ParentWatch.stopWithParent() }
guard let socket = arguments["socket"], let database = Databases.url(given: arguments["database-url"], path: arguments["database"]),
      let data = arguments["data"], let secretFile = arguments["signing-secret-file"] else {
    logError("usage: files-api --socket PATH (--database PATH | --database-url URL) --data DIR --signing-secret-file PATH [--threads N]")
    exit(2)
}

let scratch = ScratchSpace(dataDirectory: data)
let storage: any FileStore
let secret: String
do {
    guard let text = BodyFileText.read(secretFile), !text.isEmpty else {
        logError("files-api: empty signing secret in \(secretFile)")
        exit(1)
    }
    secret = text
    try scratch.prepare()
    storage = try FileStores.open(url: FileStores.localURL(dataDirectory: data), signingSecret: secret)
    try Schema.migrate(Databases.open(url: database))
} catch {
    logError("files-api: cannot prepare storage: \(error)")
    exit(1)
}

let settings = FilesSettings(
    databaseURL: database, storage: storage, scratch: scratch, bodyDirectory: arguments["body-dir"] ?? data + "/tmp/body",
    maxBodyBytes: arguments.int("max-body") ?? 8 << 20, publicURL: arguments["public-url"] ?? "",
    linkSeconds: Int64(arguments.int("link-seconds") ?? 3600),
    allowedPrivateHosts: Set((arguments["allow-private-hosts"] ?? "").split(separator: ",").map { String($0).lowercased() }))
let server = Server(configuration: .init(socketPath: socket, threads: arguments.int("threads") ?? 0, maxBodyBytes: settings.maxBodyBytes))
do {
    try server.run {
        let app = try! FilesApp(settings: settings)
        return { app.handle($0) }
    }
} catch {
    logError("files-api: \(error)")
    exit(1)
}
