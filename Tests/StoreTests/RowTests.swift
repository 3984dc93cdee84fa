import Testing
@testable import Store

/// A row is read by the columns its query returns; any other name is a programming error.
struct RowTests {
    let row = Row(columns: ["id", "size", "name", "flag"], values: [.integer(7), .real(2.9), .text("x"), .integer(1)])

    @Test func namedColumnsRead() {
        #expect(row.int("id") == 7)
        #expect(row.int("size") == 2)
        #expect(row.double("size") == 2.9)
        #expect(row.string("name") == "x")
        #expect(row.bool("flag"))
        #expect(row.has("id"))
        #expect(!row.has("missing"))
    }

    @Test func nullIsNilNotAMissingColumn() {
        let row = Row(columns: ["n"], values: [.null])
        #expect(row.int("n") == nil)
        #expect(row.string("n") == nil)
        #expect(!row.bool("n"))
    }

    @Test func missingColumnStopsInsteadOfReadingZero() async {
        await #expect(processExitsWith: .failure) {
            let row = Row(columns: ["id"], values: [.integer(1)])
            _ = row.int("account_id")
        }
        await #expect(processExitsWith: .failure) {
            let row = Row(columns: ["id"], values: [.integer(1)])
            _ = row.bool("revoked")
        }
    }

    @Test func positionsAreResolvedOnceAndReadByIndex() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        let rows = try db.query("SELECT 5 AS id, 'a' AS name, NULL AS size UNION ALL SELECT 6, 'b', 2.0", [])
        let positions = rows[0].positions(of: ["size", "id", "name"])
        #expect(rows.map { $0.int(at: positions[1]) } == [5, 6])
        #expect(rows.map { $0.string(at: positions[2]) } == ["a", "b"])
        #expect(rows.map { $0.int(at: positions[0]) } == [nil, 2])
        // The same conversions as by name.
        #expect(row.int(at: 1) == row.int("size"))
        #expect(row.string(at: 0) == row.string("id"))
    }

    @Test func resolvingAMissingColumnStops() async {
        await #expect(processExitsWith: .failure) {
            let row = Row(columns: ["id"], values: [.integer(1)])
            _ = row.positions(of: ["id", "account_id"])
        }
    }

    @Test func everyColumnOfARealQueryReads() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        let rows = try db.query("SELECT 1 AS a, NULL AS b, 'z' AS c", [])
        #expect(rows.first?.int("a") == 1)
        #expect(rows.first?.int("b") == nil)
        #expect(rows.first?.string("c") == "z")
    }
}
