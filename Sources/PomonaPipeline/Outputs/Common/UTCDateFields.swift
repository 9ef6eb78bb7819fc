/// Calendar fields of an epoch time in UTC, computed arithmetically (no Foundation calendar on
/// the per-event path): index names (`osquery-%Y.%m.%d`), RFC 3339 syslog timestamps and the
/// day keys of per-query volume accounting.
struct UTCDateFields: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    /// 0…999_999
    var microsecond: Int

    init(epochSeconds: Double) {
        let clamped = epochSeconds.isFinite ? min(max(epochSeconds, 0), 253_402_300_799) : 0
        var whole = Int(clamped.rounded(.down))
        var micro = Int(((clamped - Double(whole)) * 1_000_000).rounded())
        if micro >= 1_000_000 {
            whole += 1
            micro -= 1_000_000
        }
        microsecond = micro
        let days = whole / 86_400
        let secondsOfDay = whole % 86_400
        hour = secondsOfDay / 3600
        minute = secondsOfDay % 3600 / 60
        second = secondsOfDay % 60
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// `2026-05-18`.
    var date: String {
        "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))"
    }

    /// `2026-05-18T12:29:58.123456Z` (RFC 3339 as RFC 5424 §6.2.3 profiles it).
    var rfc3339: String {
        "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))T\(Self.pad(hour, 2)):\(Self.pad(minute, 2)):"
            + "\(Self.pad(second, 2)).\(Self.pad(microsecond, 6))Z"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
