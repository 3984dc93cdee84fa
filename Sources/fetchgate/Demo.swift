import Domain
import Foundation
import Store

/// The demo account `make run` prints: created once, its clear token kept in a
/// 0600 file in the run directory (the database holds only its digest).
struct Demo {
    let paths: RunPaths
    let db: any Database
    static let key = "demo"

    /// Nodes starting at once on one database may both find no demo account and both create it:
    /// the loser's insert is refused (the key is taken), and its second look finds the winner's.
    func ensure() throws -> (key: String, token: String) {
        do { return try ensureOnce() } catch { return try ensureOnce() }
    }

    private func ensureOnce() throws -> (key: String, token: String) {
        let accounts = AccountService(db: db)
        if try accounts.account(apiKey: Demo.key) != nil,
           let saved = try? String(contentsOfFile: paths.demoCredentials, encoding: .utf8),
           let token = saved.split(separator: ":").last.map({ String($0).trimmingCharacters(in: .whitespacesAndNewlines) }),
           try accounts.authenticate(apiKey: Demo.key, token: token) != nil {
            return (Demo.key, token)
        }
        let token: String
        if let account = try accounts.account(apiKey: Demo.key) {
            // The saved token is gone or was rotated through the API: give the demo key a fresh one.
            guard let credential = try accounts.credentials(accountID: account.id)
                .first(where: { $0.apiKey == Demo.key && $0.revokedAt == nil }) else {
                throw SetupError("demo key not found among the live credentials")
            }
            token = try accounts.rotateToken(credentialID: credential.id)
        } else {
            var new = AccountService.NewAccount(name: "Demo Store", email: "demo@example.com")
            new.url = "demo.fetchgate.local"
            let (account, _, created) = try accounts.create(new, apiKey: Demo.key)
            token = created
            try seedItems(accountID: account.id)
        }
        _ = FileManager.default.createFile(atPath: paths.demoCredentials, contents: Data("\(Demo.key):\(token)\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        return (Demo.key, token)
    }

    private func seedItems(accountID: Int64) throws {
        let items = ItemService(db: db)
        let samples: [(sku: String, name: String, price: Double, file: String, text: String)] = [
            ("BILL-WAX", "Quality Bill Wax", 9.95, "BILL-WAX.txt", "Quality Bill Wax: apply sparingly.\n"),
            ("CARROT-JUICE", "Carrot Juice", 95.2, "carrot-juice.txt", "Carrot juice recipe: carrots, juicer.\n"),
        ]
        for sample in samples {
            let source = NSTemporaryDirectory() + "fetchgate-demo-" + sample.file
            try Data(sample.text.utf8).write(to: URL(fileURLWithPath: source))
            defer { try? FileManager.default.removeItem(atPath: source) }
            let upload = try Uploader(paths: paths, db: db).upload(accountID: accountID, file: source, name: sample.file)
            _ = try items.create(accountID: accountID, ItemInput(sku: sample.sku, name: sample.name, price: sample.price, uploadID: upload.id))
        }
    }
}
