import XCTest
import Domain
import Store

final class AccountServiceTests: DomainTestCase {
    func testTokensAreStoredOnlyAsDigests() throws {
        let (_, _, token) = try makeAccount()
        let stored = try db.query("SELECT * FROM credentials")
        for row in stored {
            for value in row.values {
                if case .text(let s) = value { XCTAssertFalse(s.contains(token)) }
                if case .blob(let b) = value { XCTAssertNotEqual(b, Array(token.utf8)) }
            }
        }
    }

    func testAuthenticateByPairAndByToken() throws {
        let accounts = AccountService(db: db)
        let (account, key, token) = try makeAccount()
        XCTAssertEqual(try accounts.authenticate(apiKey: key, token: token)?.account.id, account.id)
        XCTAssertEqual(try accounts.authenticate(apiKey: nil, token: token)?.apiKey, key)
        XCTAssertNil(try accounts.authenticate(apiKey: key, token: token + "x"))
        XCTAssertNil(try accounts.authenticate(apiKey: "nobody", token: token))
        XCTAssertNil(try accounts.authenticate(apiKey: nil, token: "wrong"))
    }

    func testRotateTokenInvalidatesOldAtOnce() throws {
        let accounts = AccountService(db: db)
        let (_, key, token) = try makeAccount()
        let principal = try XCTUnwrap(accounts.authenticate(apiKey: key, token: token))
        let fresh = try accounts.rotateToken(credentialID: principal.credentialID)
        XCTAssertNil(try accounts.authenticate(apiKey: key, token: token))
        XCTAssertNotNil(try accounts.authenticate(apiKey: key, token: fresh))
    }

    /// Two rotations that both authenticated with the same token: the first wins, the second is
    /// refused (nil) and changes nothing, so the token the first caller got keeps working.
    func testRotationReplacingAStaleTokenChangesNothing() throws {
        let accounts = AccountService(db: db)
        let (_, key, token) = try makeAccount()
        let principal = try XCTUnwrap(accounts.authenticate(apiKey: key, token: token))
        let first = try XCTUnwrap(accounts.rotateToken(credentialID: principal.credentialID, replacing: token))
        XCTAssertNil(try accounts.rotateToken(credentialID: principal.credentialID, replacing: token))
        XCTAssertNil(try accounts.authenticate(apiKey: key, token: token))
        XCTAssertNotNil(try accounts.authenticate(apiKey: key, token: first))
        let second = try XCTUnwrap(accounts.rotateToken(credentialID: principal.credentialID, replacing: first))
        XCTAssertNil(try accounts.authenticate(apiKey: key, token: first))
        XCTAssertNotNil(try accounts.authenticate(apiKey: key, token: second))
    }

    func testSeveralPairsAndRevocation() throws {
        let accounts = AccountService(db: db)
        let (account, key1, token1) = try makeAccount()
        let (key2, token2) = try accounts.addCredential(accountID: account.id, apiKey: "second")
        XCTAssertEqual(try accounts.authenticate(apiKey: key2, token: token2)?.account.id, account.id)
        XCTAssertTrue(try accounts.revoke(apiKey: key1))
        XCTAssertFalse(try accounts.revoke(apiKey: key1))
        XCTAssertNil(try accounts.authenticate(apiKey: key1, token: token1))
        XCTAssertNotNil(try accounts.authenticate(apiKey: key2, token: token2))
        XCTAssertEqual(try accounts.credentials(accountID: account.id).count, 2)
        XCTAssertThrowsError(try accounts.addCredential(accountID: account.id, apiKey: "second")) { error in
            XCTAssertEqual(error as? DomainError, .unprocessable("api key second is already taken"))
        }
    }

    func testSettingsValidation() throws {
        let (account, _, _) = try makeAccount()
        let accounts = AccountService(db: db)
        XCTAssertThrowsError(try accounts.update(accountID: account.id, downloadLimitPerItem: -1))
        try accounts.update(accountID: account.id, orderExpirationInHours: 48)
        XCTAssertEqual(try accounts.account(id: account.id)?.orderExpirationInHours, 48)
    }
}
