/// osquery's `calendarTime` text: asctime-style UTC with a `" UTC"` suffix (spec §4.2).
///
/// ```swift
/// CalendarTime.format(unixTime: 1462228052)   // "Mon May  2 22:27:32 2016 UTC"
/// ```
/// The day of the month is padded with a space, not a zero, like C's `asctime`. Computed by hand
/// (civil-from-days) so it never depends on the process locale or time zone.
public enum CalendarTime {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats seconds since the Unix epoch (UTC).
    public static func format(unixTime: Int64) -> String {
        let days = floorDiv(unixTime, 86_400)
        let secondsOfDay = unixTime - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        // 1970-01-01 was a Thursday (index 4).
        let weekday = Int(((days % 7) + 11) % 7)
        let hour = secondsOfDay / 3600
        let minute = (secondsOfDay % 3600) / 60
        let second = secondsOfDay % 60
        let dayText = day < 10 ? " \(day)" : "\(day)"
        return "\(weekdays[weekday]) \(months[Int(month) - 1]) \(dayText) \(pad(hour)):\(pad(minute)):\(pad(second)) \(year) UTC"
    }

    private static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// Howard Hinnant's days-to-civil algorithm.
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
