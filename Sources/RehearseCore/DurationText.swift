/// Reading and writing durations the way operators write them: `250ms`, `90s`, `4m`, `1h30m`, `1.5s`.
public enum DurationText {
    /// Why a duration could not be read.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case missingUnit(String)
        case unknownUnit(String)
        case malformed(String)
        case negative(String)
        case tooLong(String)

        public var description: String {
            switch self {
            case .empty: "empty duration"
            case .missingUnit(let text): "'\(text)' has no unit"
            case .unknownUnit(let unit): "unknown duration unit '\(unit)'"
            case .malformed(let text): "'\(text)' is not a duration"
            case .negative(let text): "'\(text)' is negative"
            case .tooLong(let text): "'\(text)' is longer than \(DurationText.compact(DurationText.longest)), the longest duration rehearse takes"
            }
        }
    }

    /// The longest duration a plan or an option may give: a year. Longer ones are mistakes, and
    /// their nanoseconds would overflow what the history stores.
    public static let longest = Duration.seconds(8_760 * 3_600)

    /// Parses a duration made of one or more `<number><unit>` parts; units are `h`, `m`, `s`, `ms`.
    public static func parse(_ text: String) throws(Problem) -> Duration {
        let trimmed = text.trimmingSpaces()
        if trimmed.isEmpty { throw .empty }
        if trimmed.hasPrefix("-") { throw .negative(trimmed) }
        var total: Int64 = 0
        let longestNanoseconds = longest.nanoseconds
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1, number != "." else {
                throw .malformed(trimmed)
            }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            if unit.isEmpty {
                throw rest.isEmpty ? .missingUnit(trimmed) : .malformed(trimmed)
            }
            let nanosecondsPerUnit: Double
            switch unit {
            case "h": nanosecondsPerUnit = 3_600e9
            case "m": nanosecondsPerUnit = 60e9
            case "s": nanosecondsPerUnit = 1e9
            case "ms": nanosecondsPerUnit = 1e6
            default: throw .unknownUnit(String(unit))
            }
            guard let amount = Double(number), amount.isFinite else { throw .malformed(trimmed) }
            let nanoseconds = amount * nanosecondsPerUnit
            guard nanoseconds <= Double(longestNanoseconds) else { throw .tooLong(trimmed) }
            total += Int64(nanoseconds.rounded())
            guard total <= longestNanoseconds else { throw .tooLong(trimmed) }
        }
        return .nanoseconds(total)
    }

    /// A compact form for plans and budgets: `4m`, `1h30m`, `90s` is `1m30s`, `250ms`.
    public static func compact(_ duration: Duration) -> String {
        let ns = duration.nanoseconds
        if ns == 0 { return "0s" }
        if ns % 1_000_000_000 != 0 {
            if ns < 1_000_000_000, ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
            return precise(duration)
        }
        var seconds = ns / 1_000_000_000
        var text = ""
        if seconds >= 3600 { text += "\(seconds / 3600)h"; seconds %= 3600 }
        if seconds >= 60 { text += "\(seconds / 60)m"; seconds %= 60 }
        if seconds > 0 { text += "\(seconds)s" }
        return text
    }

    /// A measured time with a tenth of a second: `1m52.4s`, `31.0s`; under a second, `412ms`.
    public static func precise(_ duration: Duration) -> String {
        let ns = duration.nanoseconds
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        if magnitude < 1_000_000_000 {
            return "\(sign)\((magnitude + 500_000) / 1_000_000)ms"
        }
        let tenths = (magnitude + 50_000_000) / 100_000_000
        let minutes = tenths / 600
        let secondsTenths = tenths % 600
        let secondsText = "\(secondsTenths / 10).\(secondsTenths % 10)s"
        if minutes == 0 { return sign + secondsText }
        if minutes < 60 { return "\(sign)\(minutes)m\(secondsText)" }
        return "\(sign)\(minutes / 60)h\(minutes % 60)m\(secondsText)"
    }
}

extension Duration {
    /// The whole duration in nanoseconds, the unit the history stores.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// The duration in seconds as a floating-point number, for reports and ratios.
    public var seconds: Double {
        Double(nanoseconds) / 1e9
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
