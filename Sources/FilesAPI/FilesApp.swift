import Domain
import HTTPCore
import Outbound
import Store
import Support
#if canImport(Glibc)
import Glibc
#endif

/// One authenticated, routed request of the Files dialect.
struct FilesCall {
    let request: Request
    let principal: Principal
    let captures: [String: String]
    let params: Params
    let app: FilesApp

    var accountID: Int64 { principal.account.id }
}

typealias FilesEndpoint = @Sendable (FilesCall) throws -> Response

/// An error in the dialect's own shape: `{"error": {"code": …, "message": …}}`.
struct APIError: Error {
    let status: Int
    let code: String
    let message: String
}

/// The Files dialect (seed 001): JSON, `X-API-KEY` / `?key=`.
final class FilesApp {
    let db: SQLiteDatabase
    let settings: FilesSettings
    let accounts: AccountService
    let files: MediaFileService
    let signer: URLSigner
    let policy: AddressPolicy

    init(settings: FilesSettings) throws {
        self.settings = settings
        db = try SQLiteDatabase(path: settings.databasePath)
        accounts = AccountService(db: db)
        files = MediaFileService(db: db, storage: settings.storage)
        signer = URLSigner(secret: settings.signingSecret)
        policy = AddressPolicy(allowedPrivateHosts: settings.allowedPrivateHosts)
    }

    static let router: Router<FilesEndpoint> = {
        var r = Router<FilesEndpoint>(suffixes: [])
        FileEndpoints.register(&r)
        return r
    }()

    func handle(_ incoming: Request) -> Response {
        var request = incoming
        if let file = request.bodyFile, request.contentType != "multipart/form-data" {
            guard let bytes = BodyFile.readSmall(file, limit: settings.maxBodyBytes, inside: settings.bodyDirectory) else {
                return JSONViews.error(APIError(status: 413, code: "payload_too_large", message: "Request body is too large"))
            }
            request.body = bytes
            request.bodyFile = nil
        }
        if request.bodyTooLarge {
            return JSONViews.error(APIError(status: 413, code: "payload_too_large", message: "Request body is too large"))
        }
        let match: Router<FilesEndpoint>.Match
        switch FilesApp.router.match(method: request.method, path: request.path) {
        case .found(let found): match = found
        case .notFound: return JSONViews.error(APIError(status: 404, code: "not_found", message: "Not found"))
        case .methodNotAllowed(let allowed):
            var response = JSONViews.error(APIError(status: 405, code: "method_not_allowed", message: "Method not allowed"))
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            return response
        }
        do {
            guard let credentials = Credentials.from(request), let principal = try authenticate(credentials) else {
                return JSONViews.error(APIError(status: 401, code: "unauthorized", message: "Send your API key in the X-API-KEY header"))
            }
            let params: Params
            do { params = try RequestInput.params(request) } catch {
                return JSONViews.error(APIError(status: 400, code: "bad_request", message: error.message))
            }
            return try match.handler(FilesCall(request: request, principal: principal, captures: match.captures, params: params, app: self))
        } catch let error as APIError {
            return JSONViews.error(error)
        } catch let error as DomainError {
            switch error {
            case .notFound(let m): return JSONViews.error(APIError(status: 404, code: "not_found", message: m))
            case .unprocessable(let m): return JSONViews.error(APIError(status: 422, code: "unprocessable", message: m))
            case .invalid(let m): return JSONViews.error(APIError(status: 400, code: "bad_request", message: m))
            }
        } catch {
            logError("files-api: \(request.method) \(request.path): \(error)")
            return JSONViews.error(APIError(status: 500, code: "internal", message: "Internal error"))
        }
    }

    private func authenticate(_ credentials: Credentials) throws -> Principal? {
        switch credentials {
        case .keyAndToken(let key, let token): return try accounts.authenticate(apiKey: key, token: token)
        case .token(let token): return try accounts.authenticate(apiKey: nil, token: token)
        }
    }
}
