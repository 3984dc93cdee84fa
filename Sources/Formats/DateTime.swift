/// The one date helper: ISO 8601 / RFC 3339, HTTP-date, RFC 5322 mail dates and the
/// short form in customer emails, for `Int64` Unix seconds (UTC).
///
/// Calendar math is the proleptic Gregorian days-from-civil / civil-from-days
/// algorithm; nothing here allocates except the returned string.
public enum DateTime {
    public enum ParseResult: Equatable, Sendable {
        case value(Int64)
        /// Empty input, or the "zero" timestamp `0001-01-01T00:00:00` that
        /// clients send for a field they do not set.
        case unset
        case invalid
    }

    // MARK: - Formatting

    /// `2008-12-28T18:47:56+00:00`, always in UTC.
    public static func format(_ unixSeconds: Int64) -> String {
        dateAndTime(unixSeconds, separator: UInt8(ascii: "T"), seconds: true, zone: "+00:00")
    }

    /// RFC 9110 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func httpDate(_ unixSeconds: Int64) -> String {
        imfDate(unixSeconds, zone: " GMT")
    }

    /// RFC 5322 `Date:` header: `Sun, 06 Nov 1994 08:49:37 +0000`.
    public static func mailDate(_ unixSeconds: Int64) -> String {
        imfDate(unixSeconds, zone: " +0000")
    }

    /// For people (customer emails): `1994-11-06 08:49 UTC`.
    public static func humanDate(_ unixSeconds: Int64) -> String {
        dateAndTime(unixSeconds, separator: UInt8(ascii: " "), seconds: false, zone: " UTC")
    }

    /// `YYYY-MM-DD`, the separator, `hh:mm[:ss]`, the zone.
    @inline(__always)
    private static func dateAndTime(_ unixSeconds: Int64, separator: UInt8, seconds: Bool, zone: StaticString) -> String {
        write(unixSeconds, capacity: 19 + zone.utf8CodeUnitCount) { t, w in
            w.date(t)
            w.byte(separator)
            w.time(t, seconds: seconds)
            w.text(zone)
        }
    }

    private static func imfDate(_ unixSeconds: Int64, zone: StaticString) -> String {
        write(unixSeconds, capacity: 25 + zone.utf8CodeUnitCount) { t, w in
            w.name(weekdayNames, Int(t.weekday))
            w.text(", ")
            w.two(t.day)
            w.byte(UInt8(ascii: " "))
            w.name(monthNames, Int(t.month - 1))
            w.byte(UInt8(ascii: " "))
            w.four(t.year)
            w.byte(UInt8(ascii: " "))
            w.time(t, seconds: true)
            w.text(zone)
        }
    }

    private static let weekdayNames: StaticString = "SunMonTueWedThuFriSat"
    private static let monthNames: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"

    /// Fills a string of at most `capacity` bytes; years outside 0...9999 take the wide form.
    @inline(__always)
    private static func write(_ unixSeconds: Int64, capacity: Int, _ body: (Civil, inout Writer) -> Void) -> String {
        let t = Civil(unixSeconds)
        guard t.year >= 0 && t.year <= 9999 else { return formatWide(t) }
        return String(unsafeUninitializedCapacity: capacity) { out in
            var w = Writer(out: out)
            body(t, &w)
            return w.count
        }
    }

    private struct Writer {
        let base: UnsafeMutablePointer<UInt8>
        var count = 0

        init(out: UnsafeMutableBufferPointer<UInt8>) { base = out.baseAddress! }

        @inline(__always) mutating func byte(_ c: UInt8) {
            base[count] = c
            count += 1
        }

        @inline(__always) mutating func text(_ s: StaticString) {
            let bytes = s.utf8Start
            for k in 0..<s.utf8CodeUnitCount { byte(bytes[k]) }
        }

        /// The `index`th three-letter name of a packed list.
        @inline(__always) mutating func name(_ names: StaticString, _ index: Int) {
            let bytes = names.utf8Start + index * 3
            byte(bytes[0])
            byte(bytes[1])
            byte(bytes[2])
        }

        @inline(__always) mutating func two(_ v: Int64) {
            byte(UInt8(truncatingIfNeeded: 48 + v / 10))
            byte(UInt8(truncatingIfNeeded: 48 + v % 10))
        }

        @inline(__always) mutating func four(_ v: Int64) {
            two(v / 100)
            two(v % 100)
        }

        /// `YYYY-MM-DD`
        @inline(__always) mutating func date(_ t: Civil) {
            four(t.year)
            byte(UInt8(ascii: "-"))
            two(t.month)
            byte(UInt8(ascii: "-"))
            two(t.day)
        }

        /// `hh:mm` or `hh:mm:ss`
        @inline(__always) mutating func time(_ t: Civil, seconds: Bool) {
            two(t.hour)
            byte(UInt8(ascii: ":"))
            two(t.minute)
            if seconds {
                byte(UInt8(ascii: ":"))
                two(t.second)
            }
        }
    }

    /// Years outside 0...9999 (only reachable from absurd inputs): ISO 8601
    /// expanded form with a sign. Not on any hot path.
    private static func formatWide(_ t: Civil) -> String {
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let sign = t.year < 0 ? "-" : "+"
        return "\(sign)\(t.year.magnitude)-\(two(t.month))-\(two(t.day))T\(two(t.hour)):\(two(t.minute)):\(two(t.second))+00:00"
    }

    // MARK: - Calendar

    struct Civil {
        var year: Int64
        var month: Int64  // 1...12
        var day: Int64  // 1...31
        var hour: Int64
        var minute: Int64
        var second: Int64
        var weekday: Int64  // 0 = Sunday

        init(_ unixSeconds: Int64) {
            var days = unixSeconds / 86_400
            var rest = unixSeconds % 86_400
            if rest < 0 {
                rest += 86_400
                days -= 1
            }
            hour = rest / 3600
            minute = rest % 3600 / 60
            second = rest % 60
            // 1970-01-01 was a Thursday.
            let w = (days + 4) % 7
            weekday = w < 0 ? w + 7 : w
            (year, month, day) = DateTime.civil(fromDays: days)
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // MARK: - Parsing

    /// An HTTP date in any of the three forms nginx reads (RFC 1123, RFC 850, asctime), as
    /// Unix seconds; nil when it is none of them.
    public static func parseHTTPDate(_ text: String) -> Int64? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var day: Int64?, month: Int64?, year: Int64?, clock: String?
        func monthNumber(_ name: String) -> Int64? {
            let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            return names.firstIndex(of: name).map { Int64($0) + 1 }
        }
        if words.count == 6, words[0].hasSuffix(","), words[5] == "GMT" {
            // Sun, 06 Nov 1994 08:49:37 GMT
            day = Int64(words[1]); month = monthNumber(words[2]); year = Int64(words[3]); clock = words[4]
            if words[3].count != 4 { return nil }
        } else if words.count == 4, words[0].hasSuffix(","), words[3] == "GMT" {
            // Sunday, 06-Nov-94 08:49:37 GMT
            let parts = words[1].split(separator: "-").map(String.init)
            guard parts.count == 3, parts[2].count == 2, let yy = Int64(parts[2]) else { return nil }
            day = Int64(parts[0]); month = monthNumber(parts[1]); year = yy < 70 ? 2000 + yy : 1900 + yy; clock = words[2]
        } else if words.count == 5 {
            // Sun Nov  6 08:49:37 1994
            month = monthNumber(words[1]); day = Int64(words[2]); clock = words[3]; year = Int64(words[4])
            if words[4].count != 4 { return nil }
        }
        guard let day, let month, let year, let clock, year >= 1970, day >= 1, day <= daysInMonth(year, month) else {
            return nil
        }
        let hms = clock.split(separator: ":").map { Int64($0) }
        guard hms.count == 3, clock.count == 8, let h = hms[0], let m = hms[1], let s = hms[2], h < 24, m < 60, s < 60 else {
            return nil
        }
        return days(year: year, month: month, day: day) * 86_400 + h * 3600 + m * 60 + s
    }


    /// Accepts `YYYY-MM-DD`, optionally followed by `T` (or `t`, or a space)
    /// and `hh:mm[:ss[.fraction]]`, optionally followed (after an optional
    /// space) by `Z`, `UTC`, `GMT`, `±hh:mm`, `±hhmm` or `±hh`. Fractions of
    /// any length are truncated; no offset means UTC. Surrounding whitespace
    /// is ignored. Years 0001...9999.
    public static func parse(_ s: String) -> ParseResult {
        var copy = s
        return copy.withUTF8 { parse(bytes: $0) }
    }

    public static func parse(_ s: Substring) -> ParseResult {
        var copy = s
        return copy.withUTF8 { parse(bytes: $0) }
    }

    private static func parse(bytes all: UnsafeBufferPointer<UInt8>) -> ParseResult {
        var start = 0
        var end = all.count
        while start < end && isSpace(all[start]) { start += 1 }
        while end > start && isSpace(all[end - 1]) { end -= 1 }
        if start == end { return .unset }

        var scanner = Scanner(bytes: all, position: start, end: end)
        guard let year = scanner.digits(4), scanner.take(UInt8(ascii: "-")),
              let month = scanner.digits(2), scanner.take(UInt8(ascii: "-")),
              let day = scanner.digits(2) else { return .invalid }
        guard year >= 1, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month) else { return .invalid }

        var hour: Int64 = 0
        var minute: Int64 = 0
        var second: Int64 = 0
        var offset: Int64 = 0
        if !scanner.atEnd {
            guard scanner.take(UInt8(ascii: "T")) || scanner.take(UInt8(ascii: "t")) || scanner.take(UInt8(ascii: " ")),
                  let h = scanner.digits(2), scanner.take(UInt8(ascii: ":")), let m = scanner.digits(2)
            else { return .invalid }
            hour = h
            minute = m
            if scanner.take(UInt8(ascii: ":")) {
                guard let sec = scanner.digits(2) else { return .invalid }
                second = sec
                if scanner.take(UInt8(ascii: ".")) || scanner.take(UInt8(ascii: ",")) {
                    guard scanner.skipDigits() > 0 else { return .invalid }
                }
            }
            guard hour <= 23, minute <= 59, second <= 59 else { return .invalid }
            if !scanner.atEnd {
                _ = scanner.take(UInt8(ascii: " "))
                guard let parsed = scanner.offset(), scanner.atEnd else { return .invalid }
                offset = parsed
            }
        }

        if year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 {
            return .unset
        }
        let days = days(year: year, month: month, day: day)
        return .value(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
    }

    @inline(__always)
    private static func isSpace(_ c: UInt8) -> Bool {
        c == 32 || c == 9 || c == 10 || c == 13
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int
        let end: Int

        var atEnd: Bool { position >= end }

        mutating func take(_ c: UInt8) -> Bool {
            guard position < end, bytes[position] == c else { return false }
            position += 1
            return true
        }

        /// Exactly `count` ASCII digits.
        mutating func digits(_ count: Int) -> Int64? {
            guard end - position >= count else { return nil }
            var value: Int64 = 0
            for k in 0..<count {
                let c = bytes[position + k]
                guard c >= 48 && c <= 57 else { return nil }
                value = value * 10 + Int64(c - 48)
            }
            position += count
            return value
        }

        mutating func skipDigits() -> Int {
            let from = position
            while position < end && bytes[position] >= 48 && bytes[position] <= 57 { position += 1 }
            return position - from
        }

        mutating func takeLetters(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard end - position >= n else { return false }
            for k in 0..<n {
                let c = bytes[position + k]
                let upper = c >= 97 && c <= 122 ? c - 32 : c
                if upper != word.utf8Start[k] { return false }
            }
            position += n
            return true
        }

        /// UTC offset in seconds east of Greenwich.
        mutating func offset() -> Int64? {
            if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) || takeLetters("UTC") || takeLetters("GMT") {
                return 0
            }
            let sign: Int64
            if take(UInt8(ascii: "+")) {
                sign = 1
            } else if take(UInt8(ascii: "-")) {
                sign = -1
            } else {
                return nil
            }
            guard let hours = digits(2), hours <= 23 else { return nil }
            var minutes: Int64 = 0
            if !atEnd {
                _ = take(UInt8(ascii: ":"))
                guard let m = digits(2), m <= 59 else { return nil }
                minutes = m
            }
            return sign * (hours * 3600 + minutes * 60)
        }
    }
}
