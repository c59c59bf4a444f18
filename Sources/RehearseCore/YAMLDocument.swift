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
        for attempt in 0..<200 {
            do {
                // The basic resolver tags every scalar as text: values are read from their text here, and
                // the default resolver's regular expressions cost most of the parse time.
                root = try Yams.compose(yaml: text, .basic)
                return
            } catch let YamlError.duplicatedKeysInMapping(keys, context) {
                let first = SourceLocation(file: file, line: context.mark.line, column: context.mark.column)
                guard let key = keys.sorted().first,
                      let (line, column, renamed) = Self.renameRepeat(of: key, after: context.mark, in: text, as: Self.placeholderPrefix + "\(attempt)")
                else {
                    syntaxError = .error(at: first, "key '\(keys.sorted().joined(separator: "', '"))' is written more than once in the same mapping",
                                         fix: "keep one of them")
                    return
                }
                duplicates[Self.placeholderPrefix + "\(attempt)"] = DuplicateKey(
                    key: key, first: first, again: SourceLocation(file: file, line: line, column: column))
                text = renamed
            } catch let error as YamlError {
                syntaxError = Self.diagnostic(for: error, file: file)
                return
            } catch {
                syntaxError = .error(at: .wholeFile(file), "cannot read the plan: \(error)")
                return
            }
        }
        syntaxError = .error(at: .wholeFile(file), "too many repeated keys", fix: "give every key in a mapping a different name")
    }

    /// Finds the next line that writes `key:` at the same column as the first occurrence, and
    /// returns its position and the text with that key renamed.
    private static func renameRepeat(of key: String, after mark: Mark, in text: String, as placeholder: String)
        -> (line: Int, column: Int, text: String)?
    {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let column = mark.column - 1
        for lineIndex in mark.line..<lines.count {
            let scalars = Array(lines[lineIndex].unicodeScalars)
            guard scalars.count > column else { continue }
            let prefix = scalars[..<column]
            guard prefix.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            let rest = String(String.UnicodeScalarView(scalars[column...]))
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(spelling) {
                let after = rest.dropFirst(spelling.count).drop { $0 == " " }
                guard after.hasPrefix(":") else { continue }
                lines[lineIndex] = String(String.UnicodeScalarView(prefix)) + placeholder + after
                return (lineIndex + 1, mark.column, lines.joined(separator: "\n"))
            }
        }
        return nil
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
