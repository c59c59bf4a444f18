public import RehearseCore

/// Prints plan diagnostics the way compilers do: `file:line:col: error: message`, the source
/// line with a caret under the column, then what to change.
public struct DiagnosticText: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) { self.style = style }

    /// Renders `diagnostics`, quoting lines of `source` (the plan text) when it is given.
    public func render(_ diagnostics: [Diagnostic], source: String? = nil) -> String {
        let lines = source.map { $0.split(separator: "\n", omittingEmptySubsequences: false) }
        var out: [String] = []
        for diagnostic in diagnostics {
            let label = diagnostic.severity == .error ? style.red(style.bold("error:")) : style.yellow(style.bold("warning:"))
            out.append(style.bold(PrintableText.visible("\(diagnostic.location):")) + " \(label) \(PrintableText.visible(diagnostic.message))")
            let line = diagnostic.location.line
            if let lines, line >= 1, line <= lines.count {
                let (text, caret) = Self.excerpt(String(lines[line - 1]), column: diagnostic.location.column)
                out.append("  " + text)
                out.append("  " + String(repeating: " ", count: caret) + style.green("^"))
            }
            if let fix = diagnostic.fix {
                out.append("  " + style.cyan("fix:") + " \(PrintableText.visible(fix))")
            }
        }
        return out.joined(separator: "\n")
    }

    /// The source line around `column` (1-based, in characters), at most about 100 characters of
    /// it, with what cannot be printed escaped; and where the caret goes under it.
    static func excerpt(_ line: String, column: Int) -> (text: String, caret: Int) {
        let characters = Array(line.replacingTabs())
        let at = min(max(0, column - 1), characters.count)
        let start = at > 60 ? at - 40 : 0
        let end = min(characters.count, start + 100)
        let before = (start > 0 ? "…" : "") + PrintableText.visible(String(characters[start..<at]))
        let after = PrintableText.visible(String(characters[at..<end])) + (end < characters.count ? "…" : "")
        return (before + after, before.count)
    }

    /// `2 errors, 1 warning`
    public static func count(_ diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        var parts: [String] = []
        if errors > 0 { parts.append(errors == 1 ? "1 error" : "\(errors) errors") }
        if warnings > 0 { parts.append(warnings == 1 ? "1 warning" : "\(warnings) warnings") }
        return parts.isEmpty ? "no problems" : parts.joined(separator: ", ")
    }
}

extension String {
    func replacingTabs() -> String {
        map { $0 == "\t" ? " " : String($0) }.joined()
    }
}
