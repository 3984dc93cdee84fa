import Dialect
import Domain

/// Creates marked with `Idempotency.create` (orders, items, uploads) take an `Idempotency-Key`.
extension StoreApp: IdempotentCreates {
    var idempotency: IdempotencyService { IdempotencyService(db: db) }
    var bodyDirectory: String { settings.bodyDirectory }
}
