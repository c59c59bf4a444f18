internal import Yams

/// A YAML document composed into nodes that keep their line and column, with duplicate keys
/// recovered rather than fatal.
///
/// Yams rejects a mapping with a repeated key and stops there. To report every problem at once,
/// each repeated key is renamed in a private copy of the text to a placeholder that validation
/// recognises and reports as a duplicate; composing is then tried again.
struct YAMLDocument {
    /// A key written a second time in the same mapping.
    struct DuplicateKey {
        var key: String
        var first: SourceLocation
        var again: SourceLocation
    }

    var root: Node?
    /// Placeholder key → the duplicate it stands for.
    var duplicates: [String: DuplicateKey] = [:]
    /// A syntax error that stopped composing, if any.
    var syntaxError: Diagnostic?

    static let placeholderPrefix = "__rehearse_duplicate_key_"

    init(text: String, file: String) {
        var text = text
        // Each attempt renames every repeat in one mapping (all its repeated keys at once), so a
        // plan recomposes once per mapping with repeats, not once per repeat.
        for _ in 0..<Self.mostMappingsWithRepeats {
            do {
                // The basic resolver tags every scalar as text: values are read from their text here, and
                // the default resolver's regular expressions cost most of the parse time.
                root = try Yams.compose(yaml: text, .basic)
                return
            } catch let YamlError.duplicatedKeysInMapping(keys, context) {
                let first = SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
                guard let renamed = Self.renameRepeats(of: Set(keys), around: context.mark, in: text, file: file,
                                                        numberingFrom: duplicates.count)
                else {
                    syntaxError = .error(at: first, "key '\(keys.sorted().joined(separator: "', '"))' is written more than once in the same mapping",
                                         fix: "keep one of them")
                    return
                }
                for (placeholder, duplicate) in renamed.duplicates { duplicates[placeholder] = duplicate }
                text = renamed.text
            } catch let error as YamlError {
                syntaxError = Self.diagnostic(for: error, file: file)
                return
            } catch {
                syntaxError = .error(at: .wholeFile(file), "cannot read the plan: \(error)")
                return
            }
        }
        syntaxError = .error(at: .wholeFile(file), "repeated keys in more than \(Self.mostMappingsWithRepeats) mappings",
                             fix: "give every key in a mapping a different name")
    }

    /// How many mappings with repeated keys are reported before giving up.
    static let mostMappingsWithRepeats = 50

    /// Renames, in the block mapping that holds the key at `mark`, every repeat of `keys` after
    /// its first occurrence; returns the text and what each placeholder stands for. Nil when the
    /// mapping is not one this line-based reading can find (a flow mapping, `{ a: 1, a: 2 }`).
    private static func renameRepeats(of keys: Set<String>, around mark: Mark, in text: String, file: String,
                                      numberingFrom number: Int) -> (text: String, duplicates: [(String, DuplicateKey)])?
    {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        let markLine = mark.line - 1, column = mark.column - 1
        guard markLine >= 0, markLine < lines.count, column >= 0 else { return nil }

        /// The first column that is not a space; nil for a blank line or a comment.
        func indent(_ line: [Unicode.Scalar]) -> Int? {
            guard let at = line.firstIndex(where: { $0 != " " }), line[at] != "#" else { return nil }
            return at
        }
        /// The key a line writes at `column`, with where it ends; `- ` may precede it only on
        /// the line that starts a sequence item.
        func key(_ line: [Unicode.Scalar], itemStart: Bool) -> (key: String, end: Int)? {
            guard line.count > column, line[column] != " " else { return nil }
            guard line[..<column].allSatisfy({ $0 == " " || (itemStart && $0 == "-") }) else { return nil }
            var end = column
            var key = ""
            if line[column] == "\"" || line[column] == "'" {
                let quote = line[column]
                guard let close = line[(column + 1)...].firstIndex(of: quote) else { return nil }
                key = String(String.UnicodeScalarView(line[(column + 1)..<close]))
                end = close + 1
            } else {
                while end < line.count, line[end] != ":" { end += 1 }
                key = String(String.UnicodeScalarView(line[column..<end])).trimmingSpaces()
            }
            var colon = end
            while colon < line.count, line[colon] == " " { colon += 1 }
            guard colon < line.count, line[colon] == ":", colon + 1 == line.count || line[colon + 1] == " " else { return nil }
            return (key, end)
        }

        // The mapping's first line: up past its keys and what is nested under them, to the line
        // that starts its sequence item or the last line of its indentation.
        var start = markLine
        if let at = indent(lines[markLine]), at < column {
            start = markLine
        } else {
            var index = markLine - 1
            while index >= 0 {
                defer { index -= 1 }
                guard let at = indent(lines[index]) else { continue }
                if at > column { continue }
                if at == column { start = index; continue }
                if lines[index][at] == "-", key(lines[index], itemStart: true) != nil { start = index }
                break
            }
        }

        var firsts: [String: SourceLocation] = [:]
        var renamed: [(String, DuplicateKey)] = []
        var index = start
        while index < lines.count {
            defer { index += 1 }
            guard let at = indent(lines[index]) else { continue }
            if index != start, at < column { break }
            guard at <= column, let found = key(lines[index], itemStart: index == start), keys.contains(found.key) else { continue }
            let location = SourceLocation(file: file, line: index + 1, column: column + 1)
            guard let first = firsts[found.key] else {
                firsts[found.key] = location
                continue
            }
            let placeholder = placeholderPrefix + "\(number + renamed.count)"
            lines[index] = Array(lines[index][..<column]) + Array(placeholder.unicodeScalars) + Array(lines[index][found.end...])
            renamed.append((placeholder, DuplicateKey(key: found.key, first: first, again: location)))
        }
        guard !renamed.isEmpty else { return nil }
        let joined = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
        return (joined, renamed)
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        let fix = "this is a YAML syntax error: check indentation (spaces, not tabs), colons and quotes"
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let while_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return .error(at: at(mark), "invalid YAML: \(problem)\(while_)", fix: fix)
        case let .reader(problem, offset, _, yaml):
            var location = SourceLocation.wholeFile(file)
            if let offset, offset <= yaml.count {
                let before = yaml.prefix(offset)
                let line = before.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                let column = before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
                location = SourceLocation(file: file, line: line, column: column)
            }
            return .error(at: location, "invalid YAML: \(problem)", fix: "the plan must be UTF-8 text without control characters")
        default:
            return .error(at: .wholeFile(file), "invalid YAML: \(error)", fix: fix)
        }
    }
}
