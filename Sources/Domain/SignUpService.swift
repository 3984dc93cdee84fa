import Formats
import Store

/// Why a sign-up was refused before anything was looked at: the address used up its attempts.
public enum SignUpRefusal: Error, Equatable, Sendable {
    /// `retryAfter`: seconds until the address's window ends.
    case tooManyAttempts(retryAfter: Int64)

    public var message: String {
        switch self {
        case .tooManyAttempts(let seconds):
            return "Too many sign-ups from this address; try again in \(seconds) seconds"
        }
    }
}

/// Self-service accounts (the rule behind the store's opt-in `account/create`): who may sign
/// up, how often, and with which name and email.
///
/// - **Rate:** each client address has `limit.attempts` attempts per window of `limit.seconds`,
///   counted by one upsert (whatever the outcome, so refused sign-ups count too, and probing for
///   taken emails costs attempts). The window starts at the address's first attempt.
/// - **Input:** a name (1–255 bytes) and an email (`EmailAddress`'s rule) are required; missing,
///   or a bad email, is `DomainError.unprocessable` naming the field; `first_name`, `last_name`
///   (255 bytes) and `url` are checked and the URL kept.
/// - **Unique:** the name and the email may not belong to another account, ignoring case.
///   Checked inside the write that creates the account, and held by unique indexes on the folded
///   values of signed-up accounts, so of two concurrent sign-ups with one email exactly one wins.
public struct SignUpService {
    public struct Limit: Sendable, Equatable {
        public let attempts: Int
        public let seconds: Int64

        /// `attempts` per address per hour.
        public static func perHour(_ attempts: Int) -> Limit { Limit(attempts: attempts, seconds: 3600) }
    }

    /// Five attempts per address per hour.
    public static let defaultLimit = Limit.perHour(5)

    public struct SignUp: Sendable {
        public var name: String
        public var email: String
        public var firstName: String
        public var lastName: String
        public var url: String

        public init(name: String, email: String, firstName: String = "", lastName: String = "", url: String = "") {
            self.name = name
            self.email = email
            self.firstName = firstName
            self.lastName = lastName
            self.url = url
        }
    }

    let db: any Database
    let accounts: AccountService
    let limit: Limit
    let clock: Clock

    public init(db: any Database, limit: Limit = SignUpService.defaultLimit, clock: Clock = .system) {
        self.db = db
        self.accounts = AccountService(db: db, clock: clock)
        self.limit = limit
        self.clock = clock
    }

    /// Counts the attempt of `address`, then checks and creates the account with its first key
    /// and token (the clear token is seen only here). Throws `SignUpRefusal` over the limit,
    /// `DomainError` for input that breaks the rules; nothing is created then.
    public func signUp(_ input: SignUp, from address: String) throws -> (Account, apiKey: String, token: String) {
        try countAttempt(from: address)
        let name = input.name
        let email = input.email
        guard !name.isEmpty else { throw DomainError.unprocessable("name is required") }
        guard !email.isEmpty else { throw DomainError.unprocessable("email is required") }
        try FieldRules.text(name, field: "name", maxBytes: FieldRules.maxAccountNameBytes)
        if let problem = EmailAddress.problem(email) { throw DomainError.unprocessable("email \(problem)") }
        try FieldRules.text(input.firstName, field: "first_name", maxBytes: FieldRules.maxPersonNameBytes)
        try FieldRules.text(input.lastName, field: "last_name", maxBytes: FieldRules.maxPersonNameBytes)
        var new = AccountService.NewAccount(name: name, email: email)
        new.url = input.url
        let (foldedName, foldedEmail) = (name.lowercased(), email.lowercased())
        let (asciiName, asciiEmail) = (SignUpService.asciiLowercased(name), SignUpService.asciiLowercased(email))
        do {
            return try db.write {
                if let taken = try db.queryOne(SignUpService.takenQuery,
                                               [asciiEmail, foldedEmail, asciiName, asciiEmail, foldedName, foldedEmail]) {
                    throw SignUpService.taken(emailTaken: taken.bool("email_taken"))
                }
                let created = try accounts.create(new)
                // The claim on the name and the email, held by unique indexes: a concurrent sign-up
                // that passed the check above on another engine fails here and leaves nothing.
                _ = try db.execute("UPDATE accounts SET signup_name = ?, signup_email = ? WHERE id = ?",
                                   [foldedName, foldedEmail, created.0.id])
                return created
            }
        } catch let error as any DatabaseError where error.isConstraintViolation {
            // A concurrent sign-up committed the same name or email first.
            throw DomainError.unprocessable("name or email is already taken")
        }
    }

    /// An account that holds the name or the email already. Signed-up accounts by their folded
    /// name and email (exact, indexed); accounts made otherwise (the CLI, the demo) by their name
    /// and email with ASCII letters folded: the same on every engine, where `LOWER` is not
    /// (SQLite's folds only A–Z, PostgreSQL's folds by the database's locale, É to é too).
    static let takenQuery = """
        SELECT (\(asciiLower("email")) = ? OR signup_email = ?) AS email_taken FROM accounts
        WHERE \(asciiLower("name")) = ? OR \(asciiLower("email")) = ? OR signup_name = ? OR signup_email = ? LIMIT 1
        """

    /// SQL for `column` with A–Z made a–z and every other character kept, alike on every engine.
    static func asciiLower(_ column: String) -> String {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).reduce(column) { sql, upper in
            "REPLACE(\(sql), '\(Character(Unicode.Scalar(upper)))', '\(Character(Unicode.Scalar(upper + 32)))')"
        }
    }

    /// `text` with A–Z made a–z and every other character kept (as `asciiLower` does in SQL).
    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    static func taken(emailTaken: Bool) -> DomainError {
        .unprocessable(emailTaken ? "email is already taken" : "name is already taken")
    }

    /// One attempt of `address` in one statement: a new window starts at the first attempt and
    /// whenever the old one has ended; over the limit is `SignUpRefusal`. Ended windows of every
    /// address are deleted on the way (an index range on `window_start`).
    func countAttempt(from address: String) throws {
        let now = clock.now()
        let windowEnded = now - limit.seconds
        let row = try db.write { () throws -> Row? in
            _ = try db.execute("DELETE FROM signup_attempts WHERE window_start <= ?", [windowEnded])
            return try db.queryOne("""
                INSERT INTO signup_attempts (address, window_start, attempts) VALUES (?, ?, 1)
                ON CONFLICT (address) DO UPDATE SET
                  attempts = CASE WHEN signup_attempts.window_start > ? THEN signup_attempts.attempts + 1 ELSE 1 END,
                  window_start = CASE WHEN signup_attempts.window_start > ? THEN signup_attempts.window_start
                                      ELSE excluded.window_start END
                RETURNING attempts, window_start
                """, [address, now, windowEnded, windowEnded])
        }
        let attempts = row?.int("attempts") ?? 1
        let windowStart = row?.int("window_start") ?? now
        if attempts > Int64(limit.attempts) {
            throw SignUpRefusal.tooManyAttempts(retryAfter: max(1, windowStart + limit.seconds - now))
        }
    }
}
