internal import Yams

/// What reading a plan gave: the plan when it has no errors, and every diagnostic found.
public struct PlanParseResult: Sendable {
    public var plan: Plan?
    public var diagnostics: [Diagnostic]

    public init(plan: Plan?, diagnostics: [Diagnostic]) {
        self.plan = plan
        self.diagnostics = diagnostics
    }

    public var isValid: Bool { plan != nil }
}

/// Turns plan text into a validated ``Plan``, or into the complete list of what is wrong with it.
///
/// Parsing never executes anything. Every diagnostic carries the `file:line:col` of the key or
/// value it is about; the parser keeps going after a problem so that one run reports them all.
public struct PlanParser: Sendable {
    public static let topLevelKeys = ["name", "description", "strategy", "budget", "targets", "inputs", "fingerprint", "checks", "window", "runbook", "steps"]
    public static let stepKeys = ["description", "role", "needs", "run", "rollback", "irreversible", "atomic", "timeout", "owner", "stop"]
    public static let targetKeys = ["description", "env", "protected", "setup", "teardown"]
    public static let checkKeys = ["name", "run", "timeout", "owner"]
    public static let checkPhases = ["preflight", "smoke", "restored"]
    public static let budgetKeys = ["rollback", "step-timeout"]

    public init() {}

    /// Parses and validates a plan.
    ///
    /// - Parameters:
    ///   - text: the YAML text.
    ///   - file: the path to show in diagnostics and to run commands from.
    ///   - defaultName: the plan's name when it has no `name:` (usually the file name without extension).
    public func parse(_ text: String, file: String, defaultName: String) -> PlanParseResult {
        let document = YAMLDocument(text: text, file: file)
        if let syntaxError = document.syntaxError {
            return PlanParseResult(plan: nil, diagnostics: [syntaxError])
        }
        guard let root = document.root, !NodeReader(file: file, duplicates: [:]).isNull(root) else {
            return PlanParseResult(plan: nil, diagnostics: [
                .error(at: .wholeFile(file), "the plan is empty",
                       fix: "start from 'rehearse init --strategy blue-green NAME', or see the README's plan format"),
            ])
        }
        var reader = NodeReader(file: file, duplicates: document.duplicates)
        let draft = readPlan(root, text: text, defaultName: defaultName, reader: &reader)
        var diagnostics = reader.diagnostics
        if let draft {
            diagnostics += PlanValidator().validate(draft)
        }
        diagnostics = diagnostics.sortedByLocation()
        let plan = diagnostics.containsErrors ? nil : draft
        return PlanParseResult(plan: plan, diagnostics: diagnostics)
    }

    // MARK: - Top level

    private func readPlan(_ root: Node, text: String, defaultName: String, reader: inout NodeReader) -> Plan? {
        guard let entries = reader.entries(of: root, what: "the plan", allowed: Self.topLevelKeys) else { return nil }
        let rootLocation = reader.location(root)
        var name = defaultName
        var strategy: Strategy?
        var strategyLocation = rootLocation
        var budget = Budget()
        var targets: [Target] = []
        var fingerprint: Fingerprint?
        var checks = Checks()
        var steps: [Step] = []
        var inputs: [PlanInput] = []
        var window: Window?
        var runbook: RunbookFacts?
        var sawTargets = false, sawSteps = false, sawStrategy = false, stepsHadErrors = false, sawName = false

        for entry in entries {
            switch entry.key {
            case "name":
                sawName = true
                if let value = reader.line(entry.value, what: "'name'") { name = value }
            case "description":
                _ = reader.text(entry.value, what: "'description'")
            case "strategy":
                sawStrategy = true
                strategyLocation = reader.location(entry.value)
                guard let value = reader.text(entry.value, what: "'strategy'") else { break }
                if let known = Strategy.named(value) {
                    strategy = known
                } else {
                    let names = Strategy.all.map(\.id)
                    reader.error(entry.value, "unknown strategy '\(value)'" + Suggestion.didYouMean(value, in: names),
                                 fix: "use one of \(names.joinedAsChoices())")
                }
            case "budget":
                budget = readBudget(entry.value, reader: &reader)
            case "targets":
                sawTargets = true
                targets = readTargets(entry.value, reader: &reader)
            case "inputs":
                for item in reader.items(entry.value) {
                    guard let pattern = reader.text(item, what: "an entry of 'inputs'") else { continue }
                    if pattern.trimmingSpaces().isEmpty || pattern.hasPrefix("/") {
                        reader.error(item, "an input must be a path or glob relative to the plan's folder, not '\(pattern)'",
                                     fix: "write it relative to the plan, for example '../migrations/*.sql'")
                        continue
                    }
                    inputs.append(PlanInput(pattern: pattern, location: reader.location(item)))
                }
            case "fingerprint":
                fingerprint = readFingerprint(entry.value, reader: &reader)
            case "checks":
                checks = readChecks(entry.value, reader: &reader)
            case "runbook":
                if let fields = reader.entries(of: entry.value, what: "'runbook'", allowed: ["window", "contacts", "checklist"]) {
                    var facts = RunbookFacts()
                    for field in fields {
                        switch field.key {
                        case "window": facts.window = reader.line(field.value, what: "'window' of 'runbook'", longest: 1000)
                        case "contacts": facts.contacts = reader.items(field.value).compactMap { reader.line($0, what: "a contact", longest: 1000) }
                        default: facts.checklist = reader.items(field.value).compactMap { reader.line($0, what: "an item of the checklist", longest: 1000) }
                        }
                    }
                    runbook = facts
                }
            case "window":
                if let fields = reader.entries(of: entry.value, what: "'window'", allowed: ["write", "kept"]) {
                    var writes: [Check] = [], kept: [Check] = []
                    for field in fields {
                        if field.key == "write" {
                            writes = readCheckList(field.value, phase: "window write", reader: &reader)
                        } else {
                            kept = readCheckList(field.value, phase: "kept", reader: &reader)
                        }
                    }
                    if writes.isEmpty {
                        reader.error(entry.value, "'window' has no 'write' commands",
                                     fix: "add 'write:' with the traffic the new version takes during the window (place orders, enqueue jobs)")
                    }
                    window = Window(writes: writes, kept: kept, location: reader.location(entry.value))
                }
            case "steps":
                sawSteps = true
                let before = reader.diagnostics.count
                steps = readSteps(entry.value, reader: &reader)
                stepsHadErrors = reader.diagnostics.count > before
            default:
                break
            }
        }

        // Without 'name:', the file's name is the plan's: the same rules hold for it.
        if !sawName, defaultName.unicodeScalars.contains(where: PrintableText.isUnprintable) || defaultName.count > 200
            || defaultName.hasPrefix("::") || defaultName.contains("##[") {
            reader.diagnostics.append(.error(
                at: rootLocation, "the file's name, which names the plan, is not one line of printable text of at most 200 characters (nor a CI workflow command)",
                fix: "add 'name:' with a plain name, or rename the file"))
        }
        if !sawStrategy {
            reader.diagnostics.append(.error(
                at: rootLocation, "the plan has no 'strategy'",
                fix: "add 'strategy:' with one of \(Strategy.all.map(\.id).joinedAsChoices())"))
        }
        if targets.isEmpty {
            reader.diagnostics.append(.error(
                at: sawTargets ? locationOfKey("targets", in: entries, reader: reader) : rootLocation,
                "the plan has no targets",
                fix: "add 'targets:' with at least a 'copy' target, the copy of the live environment to rehearse on"))
        }
        // Steps that were all rejected are already explained, each at its place.
        if steps.isEmpty, !stepsHadErrors {
            reader.diagnostics.append(.error(
                at: sawSteps ? locationOfKey("steps", in: entries, reader: reader) : rootLocation,
                "the plan has no steps",
                fix: "add 'steps:', each with 'run' and 'rollback' commands"))
        }

        return Plan(
            name: name, file: reader.file, strategy: strategy ?? .custom, budget: budget, targets: targets,
            fingerprint: fingerprint, checks: checks, steps: steps, source: text, strategyLocation: strategyLocation,
            inputs: inputs, window: window, runbook: runbook)
    }

    private func locationOfKey(_ key: String, in entries: [NodeReader.Entry], reader: NodeReader) -> SourceLocation {
        entries.first { $0.key == key }.map { reader.location($0.keyNode) } ?? SourceLocation(file: reader.file, line: 1, column: 1)
    }

    // MARK: - Fingerprint

    public static let fingerprintKeys = ["run", "timeout", "ignore", "accept", "probe"]

    /// `fingerprint: CMD`, or a map: `run`, `timeout`, `ignore` (regular expressions), `accept`
    /// (`{ match: REGEX, reason: TEXT }`), `probe` (`{ run: CMD, undo: CMD }`).
    private func readFingerprint(_ node: Node, reader: inout NodeReader) -> Fingerprint? {
        guard case .mapping = node else {
            return reader.command(node, what: "'fingerprint'").map { Fingerprint(command: $0) }
        }
        guard let entries = reader.entries(of: node, what: "'fingerprint'", allowed: Self.fingerprintKeys) else { return nil }
        var run: String?
        var timeout: Duration?
        var ignore: [Fingerprint.Pattern] = []
        var accept: [Fingerprint.Acceptance] = []
        var probe: Fingerprint.Probe?
        for entry in entries {
            switch entry.key {
            case "run": run = reader.text(entry.value, what: "'run' of 'fingerprint'")
            case "timeout": timeout = reader.duration(entry.value, what: "'timeout' of 'fingerprint'")
            case "ignore":
                for item in reader.items(entry.value) {
                    if let pattern = readPattern(item, what: "an entry of 'ignore'", reader: &reader) { ignore.append(pattern) }
                }
            case "accept":
                for item in reader.items(entry.value) {
                    guard let fields = reader.entries(of: item, what: "an entry of 'accept'", allowed: ["match", "reason"]) else { continue }
                    var match: Fingerprint.Pattern?
                    var reason: String?
                    for field in fields {
                        if field.key == "match" {
                            match = readPattern(field.value, what: "'match' of an 'accept' entry", reader: &reader)
                        } else {
                            reason = reader.text(field.value, what: "'reason' of an 'accept' entry")
                        }
                    }
                    if !fields.contains(where: { $0.key == "match" }) || !fields.contains(where: { $0.key == "reason" }) {
                        reader.error(item, "an 'accept' entry needs both 'match' and 'reason'",
                                     fix: "say which lines it accepts and why: { match: REGEX, reason: TEXT }")
                        continue
                    }
                    if let match, let reason, !reason.trimmingSpaces().isEmpty {
                        accept.append(Fingerprint.Acceptance(match: match, reason: reason))
                    } else if reason?.trimmingSpaces().isEmpty == true {
                        reader.error(item, "an accepted difference needs a reason", fix: "say why the team accepts it")
                    }
                }
            default:
                guard let fields = reader.entries(of: entry.value, what: "'probe'", allowed: ["run", "undo"]) else { continue }
                var change: Command?, undo: Command?
                for field in fields {
                    let command = reader.command(field.value, what: "'\(field.key)' of 'probe'")
                    if field.key == "run" { change = command } else { undo = command }
                }
                if let change, let undo {
                    probe = Fingerprint.Probe(run: change, undo: undo)
                } else if !fields.contains(where: { $0.key == "run" }) || !fields.contains(where: { $0.key == "undo" }) {
                    reader.error(entry.value, "'probe' needs both 'run' (a small change to the copy) and 'undo'",
                                 fix: "for example probe: { run: ./probe add, undo: ./probe remove }")
                }
            }
        }
        guard let run else {
            if !entries.contains(where: { $0.key == "run" }) {
                reader.error(node, "'fingerprint' has no 'run' command", fix: "add 'run: <shell command>' whose output describes the copy's state")
            }
            return nil
        }
        return Fingerprint(command: Command(run: run, timeout: timeout, location: reader.location(node)),
                           ignore: ignore, accept: accept, probe: probe)
    }

    /// A regular expression, checked now so that a bad one is a plan error at its place.
    private func readPattern(_ node: Node, what: String, reader: inout NodeReader) -> Fingerprint.Pattern? {
        guard let source = reader.text(node, what: what) else { return nil }
        if let problem = LinePattern.problem(source) {
            reader.error(node, "\(what) is not a valid regular expression: \(problem)",
                         fix: "fix the pattern (a POSIX extended regular expression, as grep -E reads them)")
            return nil
        }
        return Fingerprint.Pattern(source, location: reader.location(node))
    }

    // MARK: - Budget

    private func readBudget(_ node: Node, reader: inout NodeReader) -> Budget {
        guard let entries = reader.entries(of: node, what: "'budget'", allowed: Self.budgetKeys) else { return Budget() }
        var rollback = Budget.defaultRollback
        var stepTimeout: Duration?
        for entry in entries {
            switch entry.key {
            case "rollback": rollback = reader.duration(entry.value, what: "'budget.rollback'") ?? rollback
            default: stepTimeout = reader.duration(entry.value, what: "'budget.step-timeout'")
            }
        }
        return Budget(rollback: rollback, stepTimeout: stepTimeout)
    }

    // MARK: - Targets

    private func readTargets(_ node: Node, reader: inout NodeReader) -> [Target] {
        guard let entries = reader.entries(of: node, what: "'targets'", duplicateNoun: "target") else { return [] }
        var targets: [Target] = []
        for entry in entries {
            guard checkIdentifier(entry.key, node: entry.keyNode, noun: "target name", reader: &reader),
                  let fields = reader.entries(of: entry.value, what: "target '\(entry.key)'", allowed: Self.targetKeys)
            else { continue }
            var target = Target(name: entry.key, location: reader.location(entry.keyNode))
            for field in fields {
                switch field.key {
                case "description": _ = reader.text(field.value, what: "'description'")
                case "env": target.environment = readEnvironment(field.value, target: entry.key, reader: &reader)
                case "protected": target.isProtected = reader.bool(field.value, what: "'protected'") ?? true
                case "setup": target.setup = reader.command(field.value, what: "'setup' of target '\(entry.key)'")
                default: target.teardown = reader.command(field.value, what: "'teardown' of target '\(entry.key)'")
                }
            }
            targets.append(target)
        }
        return targets
    }

    private func readEnvironment(_ node: Node, target: String, reader: inout NodeReader) -> [EnvironmentVariable] {
        guard let entries = reader.entries(of: node, what: "'env' of target '\(target)'", duplicateNoun: "variable") else { return [] }
        var variables: [EnvironmentVariable] = []
        for entry in entries {
            let name = entry.key
            let valid = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
                && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            if !valid {
                reader.error(entry.keyNode, "'\(name)' is not a valid environment variable name",
                             fix: "use letters, digits and '_', not starting with a digit")
                continue
            }
            if name.hasPrefix("REHEARSE_") {
                reader.error(entry.keyNode, "'\(name)' is reserved: rehearse sets REHEARSE_* variables itself",
                             fix: "choose another name")
                continue
            }
            guard case .scalar(let scalar) = entry.value else {
                reader.error(entry.value, "the value of '\(name)' must be text, not \(reader.describe(entry.value))")
                continue
            }
            if scalar.string.unicodeScalars.contains("\u{0}") {
                reader.error(entry.value, "the value of '\(name)' contains a NUL character (\\0), which no command or variable can carry")
                continue
            }
            let bytes = name.utf8.count + 1 + scalar.string.utf8.count
            if bytes >= NodeReader.longestText {
                reader.error(entry.value, "'\(name)=…' is \(bytes) bytes long; a variable can carry at most \(NodeReader.longestText - 1) (the kernel's limit for one argument)")
                continue
            }
            variables.append(EnvironmentVariable(name: name, value: reader.isNull(entry.value) ? "" : scalar.string))
        }
        return variables
    }

    // MARK: - Checks

    private func readChecks(_ node: Node, reader: inout NodeReader) -> Checks {
        guard let entries = reader.entries(of: node, what: "'checks'", allowed: Self.checkPhases) else { return Checks() }
        var checks = Checks()
        for entry in entries {
            let list = readCheckList(entry.value, phase: entry.key, reader: &reader)
            switch entry.key {
            case "preflight": checks.preflight = list
            case "smoke": checks.smoke = list
            default: checks.restored = list
            }
        }
        return checks
    }

    private func readCheckList(_ node: Node, phase: String, reader: inout NodeReader) -> [Check] {
        var checks: [Check] = []
        var seen: [String: SourceLocation] = [:]
        for item in reader.items(node) {
            var check: Check?
            if case .scalar = item {
                // `- curl -fsS ...` is a check named after its command.
                if let run = reader.text(item, what: "a \(phase) check") {
                    check = Check(name: Self.name(ofCommand: run), command: Command(run: run, location: reader.location(item)))
                }
            } else if let fields = reader.entries(of: item, what: "a \(phase) check", allowed: Self.checkKeys) {
                var name: String?, run: String?, timeout: Duration?, owner: String?, nameRejected = false
                for field in fields {
                    switch field.key {
                    case "owner": owner = reader.line(field.value, what: "'owner' of a \(phase) check")
                    case "name":
                        name = reader.line(field.value, what: "'name' of a \(phase) check")
                        nameRejected = name == nil
                    case "run": run = reader.text(field.value, what: "'run' of a \(phase) check")
                    default: timeout = reader.duration(field.value, what: "'timeout' of a \(phase) check")
                    }
                }
                if !fields.contains(where: { $0.key == "run" }) {
                    reader.error(item, "a \(phase) check has no 'run' command", fix: "add 'run: <shell command>' (exit 0 passes)")
                }
                if let run, !nameRejected {
                    check = Check(name: name ?? Self.name(ofCommand: run), command: Command(run: run, timeout: timeout, location: reader.location(item)), owner: owner)
                }
            }
            guard let check else { continue }
            if let first = seen[check.name] {
                reader.error(item, "two \(phase) checks are named '\(check.name)' (first at line \(first.line))",
                             fix: "give each check its own name")
                continue
            }
            seen[check.name] = check.command.location
            checks.append(check)
        }
        return checks
    }

    // MARK: - Steps

    private func readSteps(_ node: Node, reader: inout NodeReader) -> [Step] {
        if case .sequence = node {
            reader.error(node, "'steps' must be a mapping from step id to step, not a list",
                         fix: "write each step as 'id:' followed by its indented 'run', 'rollback' and 'needs'")
            return []
        }
        guard let entries = reader.entries(of: node, what: "'steps'", duplicateNoun: "step id") else { return [] }
        var steps: [Step] = []
        steps.reserveCapacity(entries.count)
        for entry in entries {
            guard checkIdentifier(entry.key, node: entry.keyNode, noun: "step id", reader: &reader) else { continue }
            if let step = readStep(id: entry.key, keyNode: entry.keyNode, entry.value, reader: &reader) {
                steps.append(step)
            }
        }
        return steps
    }

    private func readStep(id: String, keyNode: Node, _ node: Node, reader: inout NodeReader) -> Step? {
        guard case .mapping = node else {
            reader.error(node, "step '\(id)' must be a mapping with 'run' and 'rollback', not \(reader.describe(node))")
            return nil
        }
        guard let fields = reader.entries(of: node, what: "step '\(id)'", allowed: Self.stepKeys) else { return nil }
        let location = reader.location(keyNode)
        var run: String?
        var rollback: String?
        var rollbackNode: Node?
        var irreversible = false
        var irreversibleNode: Node?
        var atomic = false
        var owner: String?
        var stop: String?
        var needs: [String] = []
        var needsLocations: [SourceLocation] = []
        var timeout: Duration?
        var role: String?
        var roleLocation: SourceLocation?

        for field in fields {
            switch field.key {
            case "description":
                _ = reader.text(field.value, what: "'description' of step '\(id)'")
            case "run":
                run = reader.text(field.value, what: "'run' of step '\(id)'")
            case "rollback":
                rollbackNode = field.value
                rollback = reader.text(field.value, what: "'rollback' of step '\(id)'")
            case "irreversible":
                irreversibleNode = field.value
                irreversible = reader.bool(field.value, what: "'irreversible' of step '\(id)'") ?? false
            case "owner":
                owner = reader.line(field.value, what: "'owner' of step '\(id)'")
            case "stop":
                stop = reader.text(field.value, what: "'stop' of step '\(id)'")
                // As for a rollback: `none` says there is nothing to run.
                if stop?.trimmingSpaces() == "none" { stop = nil }
            case "atomic":
                atomic = reader.bool(field.value, what: "'atomic' of step '\(id)'") ?? false
            case "needs":
                for item in reader.items(field.value) {
                    guard let need = reader.text(item, what: "an entry of 'needs' of step '\(id)'") else { continue }
                    if needs.contains(need) {
                        reader.warning(item, "step '\(id)' needs '\(need)' twice", fix: "remove the repeat")
                        continue
                    }
                    needs.append(need)
                    needsLocations.append(reader.location(item))
                }
            case "timeout":
                timeout = reader.duration(field.value, what: "'timeout' of step '\(id)'")
            default:
                role = reader.text(field.value, what: "'role' of step '\(id)'")
                roleLocation = reader.location(field.value)
            }
        }

        if run == nil, !fields.contains(where: { $0.key == "run" }) {
            reader.diagnostics.append(.error(at: location, "step '\(id)' has no 'run' command", fix: "add 'run: <shell command>'"))
        }
        let undo: Step.Undo
        switch (rollback, irreversible) {
        case (.some(let command), false):
            undo = command.trimmingSpaces() == "none" ? .notNeeded : .command(command)
        case (nil, true):
            undo = .irreversible
        case (.some, true):
            reader.error(irreversibleNode!, "step '\(id)' is irreversible but also has a 'rollback'",
                         fix: "remove 'rollback' if the step is a point of no return, or remove 'irreversible: true'")
            undo = .irreversible
        case (nil, false):
            if rollbackNode == nil {
                reader.diagnostics.append(.error(
                    at: location, "step '\(id)' says nothing about its rollback",
                    fix: "add 'rollback: <command>' to undo it, 'rollback: none' if it is harmless to leave applied, or 'irreversible: true' if it is a point of no return"))
            }
            // Stands in for the missing rollback so that later checks do not report it again.
            undo = .command("")
        }
        // A step with problems is still kept, so that 'needs' naming it is not reported as unknown;
        // the plan as a whole is rejected by the errors already recorded.
        var step = Step(id: id, run: run ?? "", undo: undo, needs: needs, timeout: timeout, isAtomic: atomic, role: role,
                    location: location, needsLocations: needsLocations, roleLocation: roleLocation)
        step.owner = owner
        step.stop = stop
        return step
    }

    /// The name of a check written as its command alone: the command's first line, printable
    /// and at most 120 characters (the whole command still runs).
    static func name(ofCommand run: String) -> String {
        let firstLine = run.split(whereSeparator: \.isNewline).first.map(String.init) ?? run
        let printable = String(String.UnicodeScalarView(firstLine.unicodeScalars.map { PrintableText.isUnprintable($0) ? " " : $0 }))
            .trimmingSpaces()
        let more = printable.count > 120 || firstLine.count < run.trimmingSpaces().count
        return printable.count > 120 ? String(printable.prefix(119)) + "…" : printable + (more ? " …" : "")
    }

    /// Step ids and target names end up in environment variables, file names and the command line.
    private func checkIdentifier(_ name: String, node: Node, noun: String, reader: inout NodeReader) -> Bool {
        let valid = name.first.map { $0.isASCII && ($0.isLetter || $0.isNumber) } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        if !valid {
            reader.error(node, "\(noun) '\(name)' may only contain letters, digits, '-', '_' and '.', starting with a letter or digit",
                         fix: "rename it, for example to '\(Self.suggestedIdentifier(for: name))'")
        }
        return valid
    }

    static func suggestedIdentifier(for name: String) -> String {
        var result = ""
        for character in name {
            if character.isASCII && (character.isLetter || character.isNumber || "-_.".contains(character)) {
                result.append(character)
            } else if !result.hasSuffix("-") {
                result.append("-")
            }
        }
        while let first = result.first, !(first.isLetter || first.isNumber) { result.removeFirst() }
        return result.isEmpty ? "step" : result
    }
}
