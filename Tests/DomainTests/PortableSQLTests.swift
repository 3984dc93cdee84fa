import XCTest
import Foundation

/// The domain's SQL stays in the language SQLite and PostgreSQL share, so a PostgreSQL driver
/// can follow without touching Domain. Scans every string literal of Sources/Domain (and the
/// migrator) that reads as SQL for constructs only SQLite takes.
final class PortableSQLTests: XCTestCase {
    /// Each rule: a pattern no domain statement may match, and why.
    static let rules: [(pattern: String, reason: String)] = [
        (#"(?i)\bGLOB\b"#, "GLOB is SQLite's: keep a column the domain fills, or compare in Swift"),
        (#"\?[0-9]|[:@$][A-Za-z0-9_]"#, "one placeholder style: a bare ? per argument, which the driver renders"),
        (#"(?<![<>!=])=\s*[01]\b(?!\.)|(?:<>|!=)\s*[01]\b"#, "an integer boolean: bind a Bool or write TRUE/FALSE"),
        (#"(?i)\bWHEN\s+\?"#, "a bound integer as a condition: decide in Swift and bind the value"),
        (#"(?i)\b(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|PRAGMA)\b"#, "transactions and settings are the driver's (write, transaction)"),
        (#"(?i)last_insert_rowid|\browid\b"#, "a new row's id comes from INSERT … RETURNING id"),
        (#"(?i)\bINSERT\s+OR\b|\bREPLACE\s+INTO\b|\bIFNULL\s*\(|\b(strftime|datetime|julianday|unixepoch)\s*\("#,
         "an SQLite-only form: use ON CONFLICT, COALESCE, or times computed in Swift"),
    ]

    func testDomainSQLIsPortable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let domain = root.appendingPathComponent("Sources/Domain")
        var files = try FileManager.default.contentsOfDirectory(atPath: domain.path)
            .filter { $0.hasSuffix(".swift") }.map { domain.appendingPathComponent($0) }
        files.append(root.appendingPathComponent("Sources/Store/Migrator.swift"))
        var statements = 0
        for file in files {
            let source = try String(contentsOf: file, encoding: .utf8)
            for sql in PortableSQLTests.stringLiterals(source) where PortableSQLTests.readsAsSQL(sql) {
                statements += 1
                for problem in PortableSQLTests.problems(sql) {
                    XCTFail("\(file.lastPathComponent): \(problem) in: \(sql)")
                }
            }
        }
        // The scan found the statements (a broken scanner would pass vacuously).
        XCTAssertGreaterThan(statements, 60)
    }

    /// The rules bite: each statement below is refused, and a portable one passes.
    func testRulesCatchSQLiteOnlyForms() {
        let refused = [
            "SELECT MAX(CAST(number AS INTEGER)) FROM orders WHERE number GLOB '[0-9]*'",
            "SELECT * FROM orders WHERE id = ?1", "SELECT * FROM orders WHERE id = :id", "SELECT * FROM orders WHERE id = $1",
            "SELECT * FROM orders o WHERE o.manual = 1", "SELECT * FROM jobs WHERE done != 0",
            "UPDATE jobs SET finished_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?",
            "BEGIN IMMEDIATE", "SELECT last_insert_rowid()", "INSERT OR IGNORE INTO t VALUES (?)",
            "SELECT IFNULL(a, 0) FROM t", "SELECT * FROM jobs WHERE run_at < strftime('%s', 'now')",
        ]
        for sql in refused { XCTAssertFalse(PortableSQLTests.problems(sql).isEmpty, sql) }
        let portable = "SELECT * FROM orders o WHERE o.account_id = ? AND o.manual = TRUE AND o.downloads >= 0 AND o.x > 1 LIMIT ? OFFSET ?"
        XCTAssertEqual(PortableSQLTests.problems(portable), [])
        XCTAssertEqual(PortableSQLTests.stringLiterals(#"""
            let a = "x \(y ? "in" : "out") z" // "comment"
            let b = """
                SELECT 1 WHERE a = \(n)
                """
            """#), ["x ⟨⟩ z", "    SELECT 1 WHERE a = ⟨⟩\n"])
    }

    static func problems(_ sql: String) -> [String] {
        rules.compactMap { rule in
            sql.range(of: rule.pattern, options: .regularExpression) == nil ? nil : rule.reason
        }
    }

    static func readsAsSQL(_ text: String) -> Bool {
        text.range(of: #"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|ALTER TABLE|WHERE|AND|SET|VALUES)\b"#,
                   options: .regularExpression) != nil
    }

    /// The string literals of a Swift source (single-line and `"""` blocks; comments skipped),
    /// each interpolation replaced by `⟨⟩`.
    static func stringLiterals(_ source: String) -> [String] {
        let chars = Array(source)
        var i = 0
        var found: [String] = []

        func starts(_ s: String, at j: Int) -> Bool {
            let pattern = Array(s)
            return j + pattern.count <= chars.count && Array(chars[j..<j + pattern.count]) == pattern
        }

        /// Reads a literal starting at its opening quote(s); returns its text.
        func literal() -> String {
            let multiline = starts("\"\"\"", at: i)
            let close = multiline ? "\"\"\"" : "\""
            i += close.count
            var text = ""
            while i < chars.count {
                if starts(close, at: i) { i += close.count; break }
                if chars[i] == "\\" && i + 1 < chars.count {
                    if chars[i + 1] == "(" {
                        i += 2
                        interpolation()
                        text += "⟨⟩"
                        continue
                    }
                    text.append(chars[i])
                    text.append(chars[i + 1])
                    i += 2
                    continue
                }
                text.append(chars[i])
                i += 1
            }
            if multiline {
                // Drop the line break after the opening quotes and the closing line's indentation.
                if text.hasPrefix("\n") { text.removeFirst() }
                while let last = text.last, last == " " { text.removeLast() }
            }
            return text
        }

        /// Skips `\( … )`, nested literals included, up to its closing parenthesis.
        func interpolation() {
            var depth = 1
            while i < chars.count {
                switch chars[i] {
                case "\"": _ = literal(); continue
                case "(": depth += 1
                case ")":
                    depth -= 1
                    if depth == 0 { i += 1; return }
                default: break
                }
                i += 1
            }
        }

        while i < chars.count {
            if starts("//", at: i) {
                while i < chars.count && chars[i] != "\n" { i += 1 }
            } else if starts("/*", at: i) {
                while i < chars.count && !starts("*/", at: i) { i += 1 }
                i += 2
            } else if chars[i] == "#" && starts("#\"", at: i) {
                // A raw string: no interpolation, no escapes.
                let multiline = starts("#\"\"\"", at: i)
                let close = multiline ? "\"\"\"#" : "\"#"
                i += multiline ? 4 : 2
                var text = ""
                while i < chars.count && !starts(close, at: i) { text.append(chars[i]); i += 1 }
                i += close.count
                found.append(text)
            } else if chars[i] == "\"" {
                found.append(literal())
            } else {
                i += 1
            }
        }
        return found
    }
}
