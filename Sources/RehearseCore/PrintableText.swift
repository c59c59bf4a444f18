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
}

extension String {
    /// Left-padded with zeros to `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
