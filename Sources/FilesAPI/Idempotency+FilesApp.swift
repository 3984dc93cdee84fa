import Dialect
import Domain

/// `POST /files` (uploads and URL imports) is marked with `Idempotency.create`.
extension FilesApp: IdempotentCreates {
    var idempotency: IdempotencyService { IdempotencyService(db: db) }
    var bodyDirectory: String { settings.bodyDirectory }
}
