import XCTest
import Support

final class OptionTableTests: XCTestCase {
    let table = OptionTable(program: "demo", options: [
        Option("socket", placeholder: "PATH", required: true, help: "where to listen"),
        Option("threads", .integer(0...64), placeholder: "N"),
        Option("supervised", .flag),
    ])

    func testParsesSpacedEqualsAndFlags() throws {
        let parsed = try table.parse(["--socket", "/s", "--threads=4", "--supervised"])
        XCTAssertEqual(parsed["socket"], "/s")
        XCTAssertEqual(parsed.int("threads"), 4)
        XCTAssertTrue(parsed.has("supervised"))
        // A value may itself start with dashes: the table knows --socket takes one.
        XCTAssertEqual(try table.parse(["--socket", "--odd"])["socket"], "--odd")
    }

    func testRefusalsNameTheOption() {
        func refusal(_ arguments: [String]) -> String? {
            do { _ = try table.parse(arguments); return nil } catch { return error.message }
        }
        XCTAssertEqual(refusal(["--socket", "/s", "--sockets", "/t"]), "demo: unknown option --sockets")
        XCTAssertEqual(refusal(["--socket", "/s", "--threads", "four"]), "demo: --threads needs a whole number in 0...64, got 'four'")
        XCTAssertEqual(refusal(["--socket", "/s", "--threads", "65"]), "demo: --threads needs a whole number in 0...64, got '65'")
        XCTAssertEqual(refusal(["--socket", "/s", "--threads", "64"]), nil)
        XCTAssertEqual(refusal(["--socket"]), "demo: --socket needs a value")
        XCTAssertEqual(refusal(["--threads", "2"]), "demo: --socket is required")
        XCTAssertEqual(refusal(["--socket", "/s", "--supervised=yes"]), "demo: --supervised takes no value")
        XCTAssertEqual(refusal(["--socket", "/s", "stray"]), "demo: unexpected argument 'stray'")
    }

    func testUsageComesFromTheTable() {
        XCTAssertEqual(table.usage, """
            usage: demo --socket PATH [--threads N] [--supervised]
              --socket PATH                    where to listen
            """)
    }
}
