internal import Yams

/// Reads YAML nodes into plan values, recording a diagnostic at the node's own line and column
/// for everything that does not fit, and carrying on so that every problem is found in one pass.
struct NodeReader {
    let file: String
    let duplicates: [String: YAMLDocument.DuplicateKey]
    var diagnostics: [Diagnostic] = []

    init(file: String, duplicates: [String: YAMLDocument.DuplicateKey]) {
        self.file = file
        self.duplicates = duplicates
    }

    func location(_ node: Node) -> SourceLocation {
        guard let mark = node.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    mutating func error(_ node: Node, _ message: String, fix: String? = nil) {
        diagnostics.append(.error(at: location(node), message, fix: fix))
    }

    mutating func warning(_ node: Node, _ message: String, fix: String? = nil) {
        diagnostics.append(.warning(at: location(node), message, fix: fix))
    }

    /// One `key: value` of a mapping.
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    /// The entries of a mapping in file order. Keys not in `allowed` (when given) are reported with
    /// a suggestion and left out; repeated keys are reported as `duplicateNoun` and left out.
    mutating func entries(of node: Node, what: String, allowed: [String]? = nil, duplicateNoun: String = "key") -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            if isNull(node) { return [] }
            error(node, "\(what) must be a mapping of 'key: value' lines, not \(describe(node))")
            return nil
        }
        var entries: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error(keyNode, "a key in \(what) must be plain text, not \(describe(keyNode))")
                continue
            }
            if let duplicate = duplicates[scalar.string] {
                diagnostics.append(.error(
                    at: duplicate.again,
                    "duplicate \(duplicateNoun) '\(duplicate.key)' in \(what) (first at line \(duplicate.first.line))",
                    fix: duplicateNoun == "step id" ? "give each step its own id" : "keep one of them"))
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                let suggestion = Suggestion.closest(to: scalar.string, in: allowed)
                error(keyNode, "unknown key '\(scalar.string)' in \(what)" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""),
                      fix: suggestion.map { "rename it to '\($0)'" } ?? "the keys allowed here are \(allowed.joinedAsChoices(quote: true))")
                continue
            }
            entries.append(Entry(key: scalar.string, keyNode: keyNode, value: value))
        }
        return entries
    }

    /// A non-empty scalar's text exactly as written (numbers and booleans included).
    mutating func text(_ node: Node, what: String) -> String? {
        guard case .scalar(let scalar) = node, !isNull(node) else {
            error(node, "\(what) must be text, not \(describe(node))")
            return nil
        }
        guard !scalar.string.trimmingSpaces().isEmpty else {
            error(node, "\(what) is empty")
            return nil
        }
        // A command is handed to the shell as a C string, which ends at NUL: it would run cut short.
        guard !scalar.string.unicodeScalars.contains("\u{0}") else {
            error(node, "\(what) contains a NUL character (\\0), which no command or variable can carry")
            return nil
        }
        // The kernel refuses any one argument or variable over 128 KiB (MAX_ARG_STRLEN): every
        // command would fail to start with E2BIG.
        guard scalar.string.utf8.count < Self.longestText else {
            error(node, "\(what) is \(scalar.string.utf8.count) bytes long; a command or variable can carry at most \(Self.longestText - 1) (the kernel's limit for one argument)")
            return nil
        }
        return scalar.string
    }

    /// The longest text a command, a variable or a name can be, in bytes with the final NUL.
    static let longestText = 128 * 1024

    /// A name people read (of the plan, a check, an owner; the runbook's lines): one line of
    /// printable text of at most `longest` characters. A control character could rewrite the
    /// terminal, a line break would forge a line of output, and a line starting with `::` or
    /// holding `##[` is a CI workflow command.
    mutating func line(_ node: Node, what: String, longest: Int = 200) -> String? {
        guard let value = text(node, what: what) else { return nil }
        if value.unicodeScalars.contains(where: PrintableText.isUnprintable) {
            error(node, "\(what) contains a control character or a line break",
                  fix: "use one line of printable text: names are printed on terminals and in reports")
            return nil
        }
        if value.count > longest {
            error(node, "\(what) is \(value.count) characters long; at most \(longest) are allowed",
                  fix: "shorten it: it is printed on every line about it and passed to its commands")
            return nil
        }
        let trimmed = value.trimmingSpaces()
        if trimmed.hasPrefix("::") || value.contains("##[") {
            error(node, "\(what) looks like a CI workflow command, which CI runners execute when it is printed",
                  fix: "reword it: no '::' at its start, no '##' before a '['")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, what: String) -> Bool? {
        if case .scalar(let scalar) = node {
            switch scalar.string {
            case "true", "True", "TRUE", "yes", "on": return true
            case "false", "False", "FALSE", "no", "off": return false
            default: break
            }
        }
        error(node, "\(what) must be true or false, not \(describe(node))")
        return nil
    }

    /// A strictly positive duration such as `250ms`, `90s`, `4m` or `1h30m`.
    mutating func duration(_ node: Node, what: String) -> Duration? {
        guard let text = text(node, what: what) else { return nil }
        do {
            let duration = try DurationText.parse(text)
            guard duration > .zero else {
                error(node, "\(what) must be more than zero", fix: "give a duration such as 90s or 4m")
                return nil
            }
            return duration
        } catch {
            let fix: String
            if case .missingUnit = error { fix = "add a unit: '\(text)s' or '\(text)m'" } else {
                fix = "write a duration such as 250ms, 90s, 4m or 1h30m"
            }
            self.error(node, "\(what): \(error)", fix: fix)
            return nil
        }
    }

    /// A command given as text, or as a mapping with `run` and an optional `timeout`.
    mutating func command(_ node: Node, what: String) -> Command? {
        if case .mapping = node {
            guard let entries = entries(of: node, what: what, allowed: ["run", "timeout"]) else { return nil }
            var run: String?
            var timeout: Duration?
            for entry in entries {
                switch entry.key {
                case "run": run = text(entry.value, what: "'run' of \(what)")
                default: timeout = duration(entry.value, what: "'timeout' of \(what)")
                }
            }
            guard let run else {
                if !entries.contains(where: { $0.key == "run" }) {
                    error(node, "\(what) has no 'run' command", fix: "add 'run: <shell command>'")
                }
                return nil
            }
            return Command(run: run, timeout: timeout, location: location(node))
        }
        guard let run = text(node, what: what) else { return nil }
        return Command(run: run, location: location(node))
    }

    /// A list of items, or a single item standing for a list of one.
    func items(_ node: Node) -> [Node] {
        if case .sequence(let sequence) = node { return Array(sequence) }
        if isNull(node) { return [] }
        return [node]
    }

    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar(let scalar):
            isNull(node) ? "nothing" : "'\(scalar.string.count > 40 ? scalar.string.prefix(40) + "…" : scalar.string)'"
        }
    }
}
