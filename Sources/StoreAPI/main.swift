import Domain
import Support
import FastCGI
import Store
import FileStores
#if canImport(Glibc)
import Glibc
#endif

// store-api: the store dialect (seed 004) over FastCGI.
//   store-api --socket run/store.sock (--database run/fetchgate.sqlite | --database-url URL) --data run/data
//             [--threads N] [--max-body BYTES] [--body-dir run/data/tmp/body] [--public-url URL]
let arguments = Arguments()
if arguments.has("supervised") { ParentWatch.stopWithParent() }
guard let socket = arguments["socket"], let database = Databases.url(given: arguments["database-url"], path: arguments["database"]),
      let data = arguments["data"] else {
    logError("usage: store-api --socket PATH (--database PATH | --database-url URL) --data DIR [--threads N] [--max-body BYTES] [--body-dir DIR]")
    exit(2)
}

let scratch = ScratchSpace(dataDirectory: data)
let storage: any FileStore
do {
    try scratch.prepare()
    storage = try FileStores.open(url: FileStores.localURL(dataDirectory: data))
    try Schema.migrate(Databases.open(url: database))
} catch {
    logError("store-api: cannot prepare storage: \(error)")
    exit(1)
}

let maxBody = arguments.int("max-body") ?? 8 << 20
let settings = StoreSettings(databaseURL: database, storage: storage, scratch: scratch,
                             bodyDirectory: arguments["body-dir"] ?? data + "/tmp/body", maxBodyBytes: maxBody,
                             publicURL: arguments["public-url"] ?? "http://127.0.0.1:8081")
let server = Server(configuration: .init(socketPath: socket, threads: arguments.int("threads") ?? 0, maxBodyBytes: maxBody))
do {
    try server.run {
        // Per thread: its own database connection and services.
        let app = try! StoreApp(settings: settings)
        return { app.handle($0) }
    }
} catch {
    logError("store-api: \(error)")
    exit(1)
}
