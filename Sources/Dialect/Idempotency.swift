import Domain
import HTTPCore

/// The `Idempotency-Key` request header, for every dialect: an endpoint wrapped in
/// `Idempotency.create` runs at most once per key (per account, method and path) within 24 h.
/// A retry with the same key and the same request gets the first reply again — same status,
/// headers and body, plus `Idempotent-Replayed: true`. Without the header nothing changes.
public enum Idempotency {
    public static let requestHeader = "idempotency-key"
    public static let replayedHeader = "Idempotent-Replayed"

    /// Marks `endpoint` as a create. Only 2xx replies are kept: a failed create changed
    /// nothing, so running it again is safe.
    public static func create<A: App>(
        _ endpoint: @escaping @Sendable (Call<A>) throws -> Response
    ) -> @Sendable (Call<A>) throws -> Response {
        { call in
            guard let key = call.request.header(requestHeader) else { return try endpoint(call) }
            let attempt = IdempotencyService.Attempt(
                accountID: call.accountID, scope: call.request.method + " " + call.request.path, key: key,
                fingerprint: IdempotencyService.isValid(key: key)
                    ? RequestFingerprint.of(call.request, bodyDirectory: call.app.host.bodyDirectory) : "")
            do {
                switch try IdempotencyService(db: call.app.context.db).run(attempt, keep: kept, { try endpoint(call) }) {
                case .created(let response): return response
                case .replayed(let result): return replay(result)
                }
            } catch let error as IdempotencyError {
                switch error {
                case .invalidKey: throw Failure(status: 400, code: "invalid_idempotency_key", message: error.message)
                case .reused: throw Failure(status: 422, code: "idempotency_key_reused", message: error.message)
                }
            }
        }
    }

    /// A 2xx reply as it is stored: header lines (`Content-Length` among them when the reply
    /// is framed by length) and the body.
    static func kept(_ response: Response) -> IdempotencyService.Result? {
        guard (200..<300).contains(response.status) else { return nil }
        var lines = response.headers.map { name, value in
            name + ": " + String(String.UnicodeScalarView(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }))
        }
        if response.sendsContentLength { lines.append("Content-Length: \(response.body.count)") }
        return .init(status: response.status, headers: lines.joined(separator: "\n"), body: response.body)
    }

    /// The stored reply again, marked as a replay.
    static func replay(_ result: IdempotencyService.Result) -> Response {
        var response = Response(status: result.status, body: result.body, sendsContentLength: false)
        for line in result.headers.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...].dropFirst())
            if name.lowercased() == "content-length" {
                response.sendsContentLength = true
            } else {
                response.headers.append((name, value))
            }
        }
        response.headers.append((replayedHeader, "true"))
        return response
    }
}
