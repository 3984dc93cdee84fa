import BucketStore
import Buckets
import Dialect
import Domain
import HTTPCore
import Support

/// Bring-your-own storage, for the jobs dialect (seed 002) to register:
/// `POST /user/s3|gcs|oss|blob|bucket` saves the account's bucket after a real probe (a small
/// object written and deleted; `bucket` is the legacy alias of `s3`), `DELETE` on each removes
/// it. Replies never carry a secret: masked to its last 4 characters. The endpoint passes the
/// address policy (no private address outside `--allow-private-hosts`), and a refused endpoint
/// is never contacted. Errors are the JSON dialects' `{"error": {"code", "message"}}`.
public enum BucketEndpoints {
    /// The option naming the master key file (created by `fetchgate serve`).
    public static let options: [Option] = [
        Option("master-key-file", placeholder: "PATH", help: "the 32-byte key that seals bucket secrets (made by fetchgate serve)"),
    ]

    /// The routes under `/user/…`; `buckets` gives the account buckets of the app serving the
    /// request (built on its connection; throwing a `Failure` answers with it).
    public static func register<A: App>(_ r: inout Routes<A>, buckets: @escaping @Sendable (A) throws -> AccountBuckets) {
        for (path, provider) in [("s3", BucketSettings.Provider.s3), ("bucket", .s3), ("gcs", .gcs), ("oss", .oss), ("blob", .blob)] {
            r.post("/user/\(path)") { call in
                let accountBuckets = try buckets(call.app)
                let settings = try input(call.params, provider: provider)
                let view: BucketView
                do {
                    view = try accountBuckets.service.save(accountID: call.accountID, settings, probe: accountBuckets.probe)
                } catch let error as BucketError {
                    throw failure(error)
                }
                return JSONWire.reply { w in render(view, &w) }
            }
            r.delete("/user/\(path)") { call in
                guard try buckets(call.app).service.delete(accountID: call.accountID, provider: provider) else {
                    throw Failure(status: 404, code: "not_found", message: "No \(provider.rawValue) bucket is configured")
                }
                return JSONWire.reply { w in
                    w.beginObject()
                    w.member("provider", provider.rawValue)
                    w.member("deleted", true)
                    w.endObject()
                }
            }
        }
    }

    /// The saved bucket as a reply shows it: secrets masked.
    public static func render(_ view: BucketView, _ w: inout JSONWriter) {
        w.beginObject()
        w.member("provider", view.provider.rawValue)
        if view.provider == .blob {
            w.member("account_name", view.accessKeyID)
            w.member("container", view.bucket)
            w.member("account_key", view.secretMasked)
            w.member("sas_token", view.sasMasked)
        } else {
            w.member("bucket", view.bucket)
            w.member("region", view.region)
            w.member("access_key_id", view.accessKeyID)
            w.member("secret_access_key", view.secretMasked)
            w.member("path_style", view.pathStyle)
        }
        w.member("endpoint", view.endpoint)
        w.member("prefix", view.prefix)
        w.member("created_at", view.createdAt * 1000)
        w.endObject()
    }

    /// The request's fields as settings (shapes are the domain's to check).
    static func input(_ params: Params, provider: BucketSettings.Provider) throws -> BucketSettings {
        func text(_ name: String) -> String? {
            guard let value = params[name]?.string?.trimmingWhitespace, !value.isEmpty else { return nil }
            return value
        }
        let pathStyle: Bool
        switch text("path_style")?.lowercased() {
        case nil, "false", "0": pathStyle = false
        case "true", "1": pathStyle = true
        default: throw Failure.badRequest("path_style must be true or false")
        }
        switch provider {
        case .blob:
            return BucketSettings(provider: .blob, bucket: text("container") ?? "", endpoint: text("endpoint"), prefix: text("prefix") ?? "",
                                  accessKeyID: text("account_name") ?? text("account") ?? "", secret: text("account_key"),
                                  sas: text("sas_token").map { $0.hasPrefix("?") ? String($0.dropFirst()) : $0 })
        case .s3, .gcs, .oss:
            let region = text("region") ?? (provider == .s3 ? "us-east-1" : provider == .gcs ? "auto" : "")
            return BucketSettings(provider: provider, bucket: text("bucket") ?? "", region: region, endpoint: text("endpoint"),
                                  prefix: text("prefix") ?? "", pathStyle: provider == .oss ? false : pathStyle,
                                  accessKeyID: text("access_key_id") ?? "", secret: text("secret_access_key") ?? text("secret"))
        }
    }

    /// A failed probe: 400 with the provider's answer (a time-out: 504), nothing saved.
    static func failure(_ error: BucketError) -> Failure {
        let status = error.code == .unreachable && error.message.contains("in time") ? 504 : 400
        return Failure(status: status, code: error.code.rawValue, message: "The bucket check failed: " + error.message)
    }
}
