/// Colour and emphasis for terminal text, or nothing at all when output is not a terminal or
/// `NO_COLOR` is set. The CLI decides which; reports only ask for a style.
///
/// Eight ANSI codes do not justify a dependency with global mutable state (Rainbow's
/// `Rainbow.enabled`), so this is written here.
public struct TextStyle: Sendable {
    public var isEnabled: Bool

    public init(enabled: Bool) { self.isEnabled = enabled }

    public static let plain = TextStyle(enabled: false)

    public func bold(_ text: String) -> String { wrap(text, "1") }
    public func dim(_ text: String) -> String { wrap(text, "2") }
    public func red(_ text: String) -> String { wrap(text, "31") }
    public func green(_ text: String) -> String { wrap(text, "32") }
    public func yellow(_ text: String) -> String { wrap(text, "33") }
    public func cyan(_ text: String) -> String { wrap(text, "36") }

    private func wrap(_ text: String, _ code: String) -> String {
        isEnabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

extension String {
    /// Pads with spaces to `width` characters (never truncates).
    public func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
