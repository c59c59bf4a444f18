public import Foundation

/// Wall-clock times as rehearse prints them, without Foundation's formatters (they sit on the
/// progress path, which runs twice per step).
public enum TimestampText {
    /// `2026-11-22 04:37` (or `04:37:21` with seconds) in local time.
    public static func local(_ date: Date, seconds: Bool = false) -> String {
        let parts = components(date, utc: false)
        return day(parts) + " " + time(parts, seconds: seconds)
    }

    /// `2026-11-22T04:55:56` in UTC without a zone, as the JUnit schema's timestamp pattern requires.
    public static func utc(_ date: Date) -> String {
        let parts = components(date, utc: true)
        return day(parts) + "T" + time(parts, seconds: true)
    }

    /// `04:37:21`, local time now: the stamp of a plain progress line.
    public static func clock() -> String {
        time(components(Date(), utc: false), seconds: true)
    }

    private static func components(_ date: Date, utc: Bool) -> tm {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        return parts
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func day(_ parts: tm) -> String {
        "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
    }

    private static func time(_ parts: tm, seconds: Bool) -> String {
        "\(two(parts.tm_hour)):\(two(parts.tm_min))" + (seconds ? ":\(two(parts.tm_sec))" : "")
    }
}
