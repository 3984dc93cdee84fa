/// The unit of work of a running `holdingWrite`, for either driver: its transaction is open at
/// depth 1 and writes inside it are savepoints.
final class HeldWrite {
    let begin: () throws -> Void
    var open = false
    init(_ begin: @escaping () throws -> Void) { self.begin = begin }

    /// Called by the driver once the unit's transaction has begun: runs `begin` in it, and
    /// abandons the unit if `begin` refuses.
    func begun(abandon: (HeldWrite) -> Void) throws {
        open = true
        do {
            try begin()
        } catch {
            abandon(self)
            throw error
        }
    }

    /// `holdingWrite`'s order of work: `body`, then (opening the unit's transaction if `body`
    /// did not) `end`, then commit; any error abandons the unit. `hold` is told the running unit
    /// (nil once it is over); `open`, `abandon` and `commit` are the driver's.
    static func run<T>(begin: () throws -> Void, _ body: () throws -> T, end: (T) throws -> Void,
                       hold: (HeldWrite?) -> Void, open: (HeldWrite) throws -> Void,
                       abandon: (HeldWrite) -> Void, commit: (HeldWrite) throws -> Void) throws -> T {
        try withoutActuallyEscaping(begin) { begin in
            let unit = HeldWrite(begin)
            hold(unit)
            defer { hold(nil) }
            let result: T
            do {
                result = try body()
                if !unit.open { try open(unit) }
                try end(result)
            } catch {
                abandon(unit)
                throw error
            }
            try commit(unit)
            return result
        }
    }
}
