/// One problem found in a plan, at the place it was found, with what to change.
///
/// Validation collects every diagnostic it can find before reporting; a plan with any error is
/// never run.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation
    /// What is wrong, in one sentence without a trailing period.
    public var message: String
    /// What to change so that the problem goes away, when there is something to suggest.
    public var fix: String?

    public init(_ severity: Severity, at location: SourceLocation, _ message: String, fix: String? = nil) {
        self.severity = severity
        self.location = location
        self.message = message
        self.fix = fix
    }

    public static func error(at location: SourceLocation, _ message: String, fix: String? = nil) -> Diagnostic {
        Diagnostic(.error, at: location, message, fix: fix)
    }

    public static func warning(at location: SourceLocation, _ message: String, fix: String? = nil) -> Diagnostic {
        Diagnostic(.warning, at: location, message, fix: fix)
    }

    /// `file:line:col: error: message`, compiler style, with the fix on a second line.
    public var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let fix { text += "\n\(location): note: \(fix)" }
        return text
    }
}

extension Array where Element == Diagnostic {
    /// True when at least one diagnostic is an error (warnings alone leave a plan valid).
    public var containsErrors: Bool { contains { $0.severity == .error } }

    /// Sorted by file, line and column, the order a reader scans a file in.
    public func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
    }
}
