import BucketEndpoints
import BucketStore
import Dialect
import Domain
import FetchViews
import HTTPCore
import MediaService
import Outbound
import Support

typealias JobsEndpoint = Routes<JobsApp>.Endpoint

/// The download jobs dialect (seed 002) on the media server: `/jobs`, `/batch`, `/metadata`,
/// `/usage` (and `/user`, the buckets' endpoints); JSON, the JSON dialects' credentials
/// (`x-api-key`), every failure `{"error": {"code", "message"}}`.
final class JobsApp: App {
    typealias Wire = JSONWire
    static let name = "jobs-api"
    static let options: [Option] = YTDLPMetadataSource.options + BucketEndpoints.options + [
        Option("job-cap", .integer(1...100_000), placeholder: "N",
               help: "jobs one account may have active (pending + processing) at once (default 500); more answer 429"),
    ]

    let context: AppContext
    let jobs: JobService
    let policy: AddressPolicy
    let webhooks: JobWebhooks
    /// What answers `/metadata` (yt-dlp behind an egress guard, shared with fetch-api).
    let metadata: (any MetadataSource)?
    /// What expands `playlist_url` bulk creates (yt-dlp behind an egress guard); nil: 503 `unavailable`.
    var playlists: (any PlaylistSource)?
    /// Each account's own bucket (`/user/…`, presigned `s3_url`s, deleting an uploaded file); nil
    /// without `--master-key-file` (its secrets cannot be sealed): `/user/…` answers 503 then.
    let buckets: AccountBuckets?

    init(_ context: AppContext) throws {
        guard context.host.signer != nil else { throw OptionError("--signing-secret-file is required") }
        self.context = context
        jobs = JobService(db: context.db, storage: context.host.storage,
                          cap: context.host.arguments.int("job-cap") ?? JobService.defaultCap)
        policy = AddressPolicy(allowedPrivateHosts: context.host.allowedPrivateHosts)
        webhooks = JobWebhooks(db: context.db, storage: context.host.storage, downloadBase: context.host.publicURL)
        let source = YTDLPMetadataSource.shared(context.host)
        metadata = source
        playlists = source
        // The master key: from the nodes' shared secrets file, else from its own file.
        let sealer = try context.host.secrets.map { try SecretBoxSealer(masterKey: $0.masterKey) }
            ?? context.host.arguments["master-key-file"].map { try SecretBoxSealer(masterKeyFile: $0) }
        let policy = self.policy
        buckets = sealer.map { AccountBuckets(db: context.db, sealer: $0, policy: policy, linkSeconds: context.host.linkSeconds) }
    }

    static let routes: Routes<JobsApp> = {
        var r = Routes<JobsApp>()
        JobEndpoints.register(&r)
        BatchEndpoints.register(&r)
        BucketEndpoints.register(&r) { app in
            guard let buckets = app.buckets else {
                throw Failure(status: 503, code: "unavailable", message: "Buckets need the server's --master-key-file")
            }
            return buckets
        }
        return r
    }()

    /// The job's presigned link into the account's bucket, when it was uploaded there.
    func s3URL(_ fetch: Fetch) -> String? {
        guard let buckets, let key = fetch.objectKey, let filename = fetch.filename else { return nil }
        return try? buckets.presignedURL(accountID: fetch.accountID, objectKey: key, filename: filename,
                                         contentType: fetch.contentType ?? ContentTypes.guess(filename: filename))
    }

    /// The job object as the whole reply.
    func reply(_ fetch: Fetch, status: Int = 200) -> Response {
        JSONWire.reply(status: status, capacity: 768) { w in
            JobViews.job(fetch, downloadBase: host.publicURL, s3URL: s3URL(fetch), into: &w)
        }
    }

    func reply(_ batch: BatchStatus) -> Response {
        Response(status: 200, headers: [("Content-Type", "application/json")],
                 body: JobViews.batch(batch, downloadBase: host.publicURL, s3URL: s3URL))
    }

    /// The domain's refusals in this dialect: the cap is 429 `too_many_jobs` with `Retry-After`,
    /// a state that forbids the action 409 `conflict`.
    static func refusing(_ endpoint: @escaping JobsEndpoint) -> JobsEndpoint {
        { call in
            do { return try endpoint(call) } catch let refusal as JobRefusal {
                switch refusal {
                case .capReached:
                    throw Failure(status: 429, code: "too_many_jobs", message: refusal.message, retryAfter: JobService.retryAfterSeconds)
                case .conflict(let message):
                    throw Failure(status: 409, code: "conflict", message: message)
                }
            }
        }
    }
}
