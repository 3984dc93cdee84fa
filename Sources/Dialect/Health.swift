import Domain
import HTTPCore
import Store
import Support

/// `GET /healthz`, for a load balancer in front of several nodes: 200 only when this thread's
/// database connection answers a real read (the schema version) and the file store answers;
/// else 503 with `Retry-After`, the body naming what failed. JSON on both servers (nginx passes
/// `/healthz` to the store dialect on the store server and to the Files dialect on the media
/// server). It is answered by the host before the app's router (every dialect answers it, and it
/// works even when the thread's app could not be built), so it is in no `--routes` list. No
/// credentials; the reasons of a failure go to the log, never into the reply.
///
///     {"status":"ok","node":"a","database":"ok","storage":"ok"}
///     {"status":"unavailable","node":"a","database":"unavailable","storage":"ok"}
public enum Health {
    public static let path = "/healthz"

    static func reply(_ request: Request, db: (any Database)?, _ settings: HostSettings) -> Response {
        guard request.method == "GET" || request.method == "HEAD" else {
            return json(405, headers: [("Allow", "GET, HEAD")],
                        { $0.key("error"); $0.beginObject(); $0.key("code"); $0.string("method_not_allowed")
                          $0.key("message"); $0.string("GET or HEAD only"); $0.endObject() })
        }
        let database = check("database") {
            guard let db else { throw StorageError(description: "no connection (the thread's app could not be built)") }
            _ = try Migrator.currentVersion(db)
        }
        let storage = check("storage") { try checkStorage(settings.storage) }
        let ok = database && storage
        return json(ok ? 200 : 503, headers: ok ? [] : [("Retry-After", "1")]) { w in
            w.key("status"); w.string(ok ? "ok" : "unavailable")
            w.key("node"); w.string(settings.nodeName)
            w.key("database"); w.string(database ? "ok" : "unavailable")
            w.key("storage"); w.string(storage ? "ok" : "unavailable")
        }
    }

    /// The file store answers (`FileStore.check()`: the local directory is writable; a bucket
    /// takes a small write, at most every half minute while it answers).
    static func checkStorage(_ store: any FileStore) throws { try store.check() }

    private static func check(_ what: String, _ body: () throws -> Void) -> Bool {
        do {
            try body()
            return true
        } catch {
            logError("healthz: \(what) unavailable: \(error)")
            return false
        }
    }

    private static func json(_ status: Int, headers: [(String, String)], _ fill: (inout JSONWriter) -> Void) -> Response {
        var w = JSONWriter()
        w.beginObject()
        fill(&w)
        w.endObject()
        return Response(status: status, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")] + headers,
                        body: w.bytes + [UInt8(ascii: "\n")])
    }
}
