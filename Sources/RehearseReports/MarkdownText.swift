import Foundation
public import RehearseCore

/// Text from a plan or a run (names, owners, reasons, commands) made inert for one line of
/// Markdown: it can neither break the line or the table it sits in, nor open an HTML tag, nor
/// carry a control character to whoever renders it.
public enum MarkdownText {
    /// For running text, a table cell or a list item: printable, one line, `|` escaped, and
    /// `<`, `>` and `&` written as entities (a name like `<script>` shows as itself).
    public static func inline(_ text: String) -> String {
        var out = ""
        for character in PrintableText.of(text) {
            switch character {
            case "\n", "\t": out.append(" ")
            case "|": out.append("\\|")
            case "<": out.append("&lt;")
            case ">": out.append("&gt;")
            case "&": out.append("&amp;")
            default: out.append(character)
            }
        }
        return out
    }

    /// For the inside of a code span: printable, one line, `|` escaped (for tables), backticks
    /// turned into quotes so that the span cannot end early. A code span shows `<` as itself.
    public static func code(_ text: String) -> String {
        var out = ""
        for character in PrintableText.of(text) {
            switch character {
            case "\n", "\t": out.append(" ")
            case "|": out.append("\\|")
            case "`": out.append("'")
            default: out.append(character)
            }
        }
        return out
    }

    /// Reads back what `inline` wrote, for a renderer that turns this Markdown into HTML itself.
    public static func unescapeInline(_ text: String) -> String {
        text.replacingOccurrences(of: "\\|", with: "|").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }
}
