/// Text from commands (their output, a fingerprint's lines) made safe for a terminal, a log view
/// or a report: invalid UTF-8 replaced; control characters (but newline and tab) and the
/// bidirectional overrides that can disguise text dropped. Printable ASCII, nearly all output,
/// takes a fast path.
public enum PrintableText {
    public static func of<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if bytes.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A || $0 == 0x09 }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { scalar in
            if scalar == "\n" || scalar == "\t" { return true }
            if scalar.value < 0x80 { return scalar.value >= 0x20 && scalar.value != 0x7F }
            if (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) { return false }
            return scalar.properties.generalCategory != .control
        }))
    }

    public static func of<S: StringProtocol>(_ text: S) -> String {
        of(Array(text.utf8))
    }

    /// Control characters (tab and line breaks included), the C1 set, and the bidirectional
    /// overrides that make text read differently from what it is.
    public static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// Text from a plan quoted back to its author (a diagnostic, the line it is about): every
    /// control character, line break, tab and bidirectional override written as an escape
    /// (`\x1B`, `\n`, `\u{202E}`), so the author sees exactly what is there and the terminal
    /// acts on none of it.
    public static func visible<S: StringProtocol>(_ text: S) -> String {
        guard text.unicodeScalars.contains(where: isUnprintable) else { return String(text) }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x100 && isUnprintable(scalar):
                out += "\\x" + String(scalar.value, radix: 16, uppercase: true).padding(2)
            case _ where isUnprintable(scalar):
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension String {
    /// Left-padded with zeros to `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
