import Domain
import HTTPCore
import Store
import Support

/// A dialect: its services (built on one thread's connection) and its routes. Everything around
/// them (options, process, FastCGI, the request pipeline, failures) is the host's and `Gate`'s.
///
/// `handle` is the whole request path, socket-free: `Request` in, `Response` out.
public protocol App: AnyObject, SendableMetatype {
    /// How the dialect renders replies and failures.
    associatedtype Wire: WireFormat
    /// The executable's name, in logs and the usage text (`store-api`).
    static var name: String { get }
    /// Options this dialect takes beyond the host's (`Host.options`); read them from `host.arguments`.
    static var options: [Option] { get }
    static var routes: Routes<Self> { get }
    /// The app on one thread's connection. Throws when it cannot be built (see `Host.run`).
    init(_ context: AppContext) throws
    var context: AppContext { get }
    /// Whom a request that carries no credentials at all acts as; nil (the default): it is
    /// refused with 401. Wrong credentials are refused whatever this says.
    func principalWithoutCredentials() throws -> Principal?
}

extension App {
    public static var options: [Option] { [] }

    public func principalWithoutCredentials() throws -> Principal? { nil }

    public var host: HostSettings { context.host }

    /// Routes, authenticates, reads the input and calls the endpoint; any failure is logged
    /// (500s only) and rendered in the dialect's wire format, which has the last touch on the reply.
    public func handle(_ incoming: Request) -> Response {
        var response = respond(incoming)
        Wire.finish(&response, for: incoming)
        return response
    }

    private func respond(_ incoming: Request) -> Response {
        do {
            let admission = try Gate.route(incoming, Self.routes.router, bodyDirectory: host.bodyDirectory,
                                           maxBodyBytes: host.maxBodyBytes, methodOverride: Wire.acceptsMethodOverride)
            switch admission.handler {
            case .open(let endpoint):
                return endpoint(admission.request, admission.captures, self)
            case .anonymous(let endpoint):
                return try endpoint(admission.request, try Gate.params(admission.request), self)
            case .api(let endpoint):
                // Reading routes take one snapshot: the credential check and every query share it.
                return try context.db.snapshot(if: admission.readOnly) {
                    let principal = try Gate.principal(admission.request, accounts: context.accounts,
                                                       otherwise: principalWithoutCredentials)
                    let params = try Gate.params(admission.request)
                    return try endpoint(Call(request: admission.request, principal: principal, captures: admission.captures,
                                             params: params, app: self))
                }
            }
        } catch {
            let failure = Failure(error)
            if failure.status == 500 { logError("\(Self.name): \(incoming.method) \(incoming.path): \(error)") }
            return Wire.failure(failure)
        }
    }
}

/// What one thread's app is built on: its own database connection, the accounts on it (for
/// authentication) and the process's settings.
public final class AppContext {
    public let db: any Database
    public let accounts: AccountService
    public let host: HostSettings

    public init(db: any Database, host: HostSettings) {
        self.db = db
        self.accounts = AccountService(db: db)
        self.host = host
    }

    /// Opens a connection to the host's database.
    public convenience init(host: HostSettings) throws {
        self.init(db: try Databases.open(url: host.databaseURL), host: host)
    }
}

/// A route's handler: an API endpoint (credentials required) or an open one (no credentials:
/// the store's customer links, where the URL's secret is the credential).
public enum Route<A: App>: Sendable {
    case api(@Sendable (Call<A>) throws -> Response)
    case open(@Sendable (Request, [String: String], A) -> Response)
    /// A route of any method that takes no credentials but reads input like an API endpoint
    /// (the store's sign-up); its failures render in the dialect's format.
    case anonymous(@Sendable (Request, Params, A) throws -> Response)
}

/// Registration of a dialect's routes: REST verbs, `any` for command URIs, `open` for routes
/// without credentials.
public struct Routes<A: App>: Sendable {
    public private(set) var router: Router<Route<A>>

    /// `suffixes`: format suffixes stripped before matching (`.xml`).
    public init(suffixes: [String] = []) { router = Router(suffixes: suffixes) }

    public typealias Endpoint = @Sendable (Call<A>) throws -> Response

    public mutating func get(_ pattern: String, _ e: @escaping Endpoint) { router.get(pattern, .api(e)) }
    public mutating func post(_ pattern: String, _ e: @escaping Endpoint) { router.post(pattern, .api(e)) }
    public mutating func put(_ pattern: String, _ e: @escaping Endpoint) { router.put(pattern, .api(e)) }
    public mutating func delete(_ pattern: String, _ e: @escaping Endpoint) { router.delete(pattern, .api(e)) }
    public mutating func any(_ pattern: String, _ e: @escaping Endpoint) { router.any(pattern, .api(e)) }
    /// A route for exactly these methods (read-only, in one snapshot, only when they are all GET/HEAD).
    public mutating func add(_ methods: [String], _ pattern: String, _ e: @escaping Endpoint) { router.add(methods, pattern, .api(e)) }

    /// A GET (and HEAD) route that takes no credentials.
    public mutating func open(get pattern: String, _ e: @escaping @Sendable (Request, [String: String], A) -> Response) {
        router.get(pattern, .open(e))
    }

    /// A route of any method that takes no credentials; the endpoint gets the request's input.
    public mutating func anonymous(_ pattern: String, _ e: @escaping @Sendable (Request, Params, A) throws -> Response) {
        router.any(pattern, .anonymous(e))
    }
}
