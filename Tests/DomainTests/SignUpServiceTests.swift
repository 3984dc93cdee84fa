import Domain
import Store
import XCTest

/// Self-service sign-up: input rules, uniqueness ignoring case, the per-address limit and its window.
final class SignUpServiceTests: DomainTestCase {
    func service(_ now: Int64 = 1_000_000, attempts: Int = 3) -> SignUpService {
        SignUpService(db: db, limit: .perHour(attempts), clock: .fixed(now))
    }

    func accountCount() throws -> Int64 { try db.queryOne("SELECT COUNT(*) AS n FROM accounts")?.int("n") ?? -1 }

    func testSignUpMakesAnAccountWhoseKeyAndTokenAuthenticate() throws {
        let (account, key, token) = try service().signUp(.init(name: "Shop", email: "owner@shop.example", url: "https://shop.example"),
                                                         from: "10.0.0.1")
        XCTAssertEqual(account.name, "Shop")
        XCTAssertEqual(account.email, "owner@shop.example")
        XCTAssertEqual(account.url, "https://shop.example")
        let principal = try AccountService(db: db).authenticate(apiKey: nil, token: token)
        XCTAssertEqual(principal?.account.id, account.id)
        XCTAssertEqual(principal?.apiKey, key)
    }

    func testNameAndEmailAreUniqueIgnoringCase() throws {
        _ = try service().signUp(.init(name: "Shop", email: "owner@shop.example"), from: "10.0.0.1")
        XCTAssertThrowsError(try service().signUp(.init(name: "Other", email: "OWNER@Shop.Example"), from: "10.0.0.2")) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("email is already taken"))
        }
        XCTAssertThrowsError(try service().signUp(.init(name: "sHOP", email: "new@shop.example"), from: "10.0.0.3")) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("name is already taken"))
        }
        // Accounts made by the CLI count too.
        _ = try AccountService(db: db).create(.init(name: "Made By Admin", email: "admin@shop.example"))
        XCTAssertThrowsError(try service().signUp(.init(name: "made by admin", email: "x@shop.example"), from: "10.0.0.4"))
        XCTAssertEqual(try accountCount(), 2)
    }

    /// An account made otherwise (the CLI) is matched with A–Z folded, alike on SQLite and
    /// PostgreSQL (whose LOWER would fold É too): its name in other ASCII case is taken, with
    /// an accented letter in the other case it is another name; sign-ups among themselves fold fully.
    func testNonASCIINamesAreMatchedAlikeOnEveryEngine() throws {
        _ = try AccountService(db: db).create(.init(name: "École Über", email: "Élodie@shop.example"))
        XCTAssertThrowsError(try service().signUp(.init(name: "ÉCOLE ÜBER", email: "a@shop.example"), from: "10.0.0.1")) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("name is already taken"))
        }
        XCTAssertThrowsError(try service().signUp(.init(name: "Other", email: "Élodie@SHOP.example"), from: "10.0.0.2")) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("email is already taken"))
        }
        _ = try service().signUp(.init(name: "école über", email: "élodie@shop.example"), from: "10.0.0.3")
        XCTAssertThrowsError(try service().signUp(.init(name: "École über", email: "b@shop.example"), from: "10.0.0.4")) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("name is already taken"))
        }
        XCTAssertThrowsError(try service().signUp(.init(name: "Third", email: "éLODIE@shop.example"), from: "10.0.0.5")) {
            XCTAssertEqual($0 as? DomainError, .unprocessable("email is already taken"))
        }
        XCTAssertEqual(try accountCount(), 2)
    }

    func testInputRules() throws {
        let cases: [(SignUpService.SignUp, DomainError)] = [
            (.init(name: "", email: "a@b.example"), .unprocessable("name is required")),
            (.init(name: "Shop", email: ""), .unprocessable("email is required")),
            (.init(name: "Shop", email: "not-an-email"), .unprocessable("email must contain exactly one @")),
            (.init(name: String(repeating: "n", count: 256), email: "a@b.example"), .unprocessable("name is longer than 255 bytes")),
            (.init(name: "Shop", email: "a@b.example", firstName: String(repeating: "f", count: 256)),
             .unprocessable("first_name is longer than 255 bytes")),
        ]
        for (input, expected) in cases {
            XCTAssertThrowsError(try service(attempts: 100).signUp(input, from: "10.0.0.1")) { XCTAssertEqual($0 as? DomainError, expected) }
        }
        XCTAssertEqual(try accountCount(), 0)
    }

    func testTheLimitCountsEveryAttemptPerAddressAndResetsAfterTheWindow() throws {
        let start: Int64 = 1_000_000
        for i in 0..<3 {
            // Refused attempts count too.
            XCTAssertThrowsError(try service(start + Int64(i)).signUp(.init(name: "", email: ""), from: "10.0.0.1"))
        }
        XCTAssertThrowsError(try service(start + 10).signUp(.init(name: "Shop", email: "a@b.example"), from: "10.0.0.1")) {
            XCTAssertEqual($0 as? SignUpRefusal, .tooManyAttempts(retryAfter: 3590))
        }
        XCTAssertEqual(try accountCount(), 0, "over the limit nothing is created")
        // Another address has its own count.
        XCTAssertNoThrow(try service(start + 10).signUp(.init(name: "Shop", email: "a@b.example"), from: "10.0.0.2"))
        // The last second of the window is still in it; the next starts a new one.
        XCTAssertThrowsError(try service(start + 3599).signUp(.init(name: "Two", email: "two@b.example"), from: "10.0.0.1"))
        XCTAssertNoThrow(try service(start + 3600).signUp(.init(name: "Two", email: "two@b.example"), from: "10.0.0.1"))
        XCTAssertEqual(try db.queryOne("SELECT attempts FROM signup_attempts WHERE address = ?", ["10.0.0.1"])?.int("attempts"), 1)
    }

    /// The schema holds the rule on its own (what keeps an engine without SQLite's one writer safe).
    func testTheFoldedNameAndEmailAreUniqueInTheSchema() throws {
        _ = try db.execute("INSERT INTO accounts (name, created_at, signup_name, signup_email) VALUES ('A', 0, 'a', 'a@x.example')", [])
        for sql in ["INSERT INTO accounts (name, created_at, signup_name, signup_email) VALUES ('B', 0, 'a', 'b@x.example')",
                    "INSERT INTO accounts (name, created_at, signup_name, signup_email) VALUES ('B', 0, 'b', 'a@x.example')"] {
            XCTAssertThrowsError(try db.execute(sql, [])) { XCTAssertTrue(($0 as? any DatabaseError)?.isConstraintViolation ?? false) }
        }
        // Accounts made otherwise (NULL) never collide.
        _ = try db.execute("INSERT INTO accounts (name, created_at) VALUES ('C', 0)", [])
        _ = try db.execute("INSERT INTO accounts (name, created_at) VALUES ('C', 0)", [])
    }

    func testConcurrentSignUpsWithOneEmailMakeOneAccount() throws {
        let url = databaseURL
        let results = ConcurrentResults()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                let db = try Databases.open(url: url)
                _ = try SignUpService(db: db, limit: .perHour(100))
                    .signUp(.init(name: "Shop \(i)", email: "Same@Shop.example"), from: "10.0.0.\(i)")
                results.add(true)
            } catch {
                results.add(false)
            }
        }
        XCTAssertEqual(results.successes, 1)
        XCTAssertEqual(try accountCount(), 1)
    }
}

final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Bool] = []
    func add(_ value: Bool) { lock.lock(); values.append(value); lock.unlock() }
    var successes: Int { lock.lock(); defer { lock.unlock() }; return values.filter { $0 }.count }
}
