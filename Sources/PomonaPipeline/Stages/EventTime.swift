import Foundation

/// An event's time in seconds since 1970, read from its own fields.
public enum EventTime {
    static let unixTime = try! FieldPath("unixTime")  // a literal, valid by construction
    static let calendarTime = try! FieldPath("calendarTime")  // a literal, valid by construction

    /// osquery's `unixTime` (number or numeric string), else its `calendarTime`, else nil.
    public static func of(_ event: inout EventDraft) -> Double? {
        switch event.value(at: unixTime) {
        case .number(let range)?, .string(let range, false)?:
            if let seconds = event.withBytes({ integerSeconds($0, range) }) { return seconds }
            if let seconds = event.text(at: unixTime).flatMap(parseSeconds) { return seconds }
        case .string?:
            if let seconds = event.text(at: unixTime).flatMap(parseSeconds) { return seconds }
        default: break
        }
        if let text = event.text(at: calendarTime) { return parseCalendarTime(text) }
        return nil
    }

    /// ``of(_:)`` for a caller that reads no other field of the event: a plain-digits `unixTime`
    /// is found without indexing the whole object (the scan stops at that member, the fourth of
    /// about ten in an osquery line, before `decorations` and `columns`); anything else, its
    /// absence included, goes to ``of(_:)``. For a valid JSON object the result is the same.
    /// Building the index for every event was 2% of the server's CPU at 5,000 hosts (`perf`).
    public static func ofReadingOnlyTime(_ event: inout EventDraft) -> Double? {
        let plain: Double? = event.withBytes { bytes in
            guard let member = try? RawJSON.member(named: unixTimeKey, in: bytes, objectAt: 0) else { return nil }
            switch FieldValue.classify(bytes, member.value) {
            case .number(let range)?, .string(let range, false)?: return integerSeconds(bytes, range)
            default: return nil
            }
        }
        return plain ?? of(&event)
    }

    static let unixTimeKey = Array("unixTime".utf8)

    /// The value of `field` as a time: seconds (number or numeric text), osquery's calendarTime, or
    /// RFC 3339 / ISO 8601. Nil when absent or not a time.
    public static func of(_ event: inout EventDraft, field: FieldPath) -> Double? {
        guard let text = event.text(at: field) else { return nil }
        return parseSeconds(text) ?? parseCalendarTime(text) ?? parseISO8601(text)
    }

    /// A plain run of 1–11 ASCII digits as seconds, without making a String (the common case).
    @inline(__always)
    static func integerSeconds(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Double? {
        guard !range.isEmpty, range.count <= 11 else { return nil }
        var value = 0
        for i in range {
            let digit = Int(bytes[i]) - 0x30
            guard digit >= 0, digit <= 9 else { return nil }
            value = value * 10 + digit
        }
        return value > 0 && value < 100_000_000_000 ? Double(value) : nil
    }

    /// A positive number of seconds; 0 (a broken agent clock) counts as absent.
    static func parseSeconds(_ text: String) -> Double? {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0, value < 1e11 else { return nil }
        return value
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Tue Aug  4 12:00:01 2026 UTC` (asctime with a zone suffix, always UTC in osquery).
    public static func parseCalendarTime(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count >= 5, let month = months.firstIndex(of: String(parts[1])), let day = Int(parts[2]),
            let year = Int(parts[4]), (1...9999).contains(year)  // beyond, the day arithmetic would overflow
        else { return nil }
        let clock = parts[3].split(separator: ":")
        guard clock.count == 3, let h = Int(clock[0]), let m = Int(clock[1]), let s = Int(clock[2]),
            (1...31).contains(day), (0...23).contains(h), (0...59).contains(m), (0...60).contains(s)
        else { return nil }
        let days = daysFromCivil(year: year, month: month + 1, day: day)
        return Double(days * 86400 + h * 3600 + m * 60 + s)
    }

    static func parseISO8601(_ text: String) -> Double? {
        if let date = try? Date(text, strategy: .iso8601) { return date.timeIntervalSince1970 }
        return nil
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// `2026-08-04T12:00:00Z`.
    public static func iso8601(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }
}
