/// The plan's state fingerprint: a command whose output describes the copy's state, taken before
/// the forward steps and after the rollback; the two must match. Written as a command, or as a
/// map that also says which lines to ignore, which differences the team accepts, and a probe
/// that proves the fingerprint can see a change at all.
public struct Fingerprint: Sendable, Hashable {
    /// A regular expression from the plan, with where it is written.
    public struct Pattern: Sendable, Hashable {
        public var source: String
        public var location: SourceLocation

        public init(_ source: String, location: SourceLocation) {
            self.source = source
            self.location = location
        }

        /// True when the pattern matches somewhere in `line` (an invalid pattern never matches:
        /// the parser refuses plans that have one).
        public func matches(_ line: String) -> Bool {
            guard let regex = try? Regex(source) else { return false }
            return line.contains(regex)
        }
    }

    /// A difference the team knows about and accepts: a differing line that matches is reported
    /// with its reason and does not fail the rehearsal.
    public struct Acceptance: Sendable, Hashable {
        public var match: Pattern
        public var reason: String

        public init(match: Pattern, reason: String) {
            self.match = match
            self.reason = reason
        }
    }

    /// A small deliberate change to the copy, and its undo: run before the forward steps to show
    /// that the fingerprint sees a change, and that it comes back.
    public struct Probe: Sendable, Hashable {
        public var run: Command
        public var undo: Command

        public init(run: Command, undo: Command) {
            self.run = run
            self.undo = undo
        }
    }

    public var command: Command
    /// Lines matching any of these are dropped from both sides before comparing (`'^\\restrict '`).
    public var ignore: [Pattern]
    public var accept: [Acceptance]
    public var probe: Probe?

    public init(command: Command, ignore: [Pattern] = [], accept: [Acceptance] = [], probe: Probe? = nil) {
        self.command = command
        self.ignore = ignore
        self.accept = accept
        self.probe = probe
    }

    public var run: String { command.run }
    public var location: SourceLocation { command.location }

    /// The two fingerprints compared under these settings.
    public func compare(before: String, after: String) -> FingerprintComparison {
        FingerprintComparison(before: before, after: after, settings: self)
    }

    /// The lines of an output that are compared: ignored ones dropped.
    public func comparedLines(_ output: String) -> [String] {
        let regexes = ignore.compactMap { try? Regex($0.source) }
        let lines = LineDiff.lines(of: output)
        guard !regexes.isEmpty else { return lines }
        return lines.filter { line in !regexes.contains { line.contains($0) } }
    }
}

/// Two fingerprints compared: the diff of their compared lines, and which differing lines the
/// plan accepts. Each differing line is judged on its own: a pattern accepts only the lines it
/// matches (a changed line shows as removed and added, and a pattern meant to accept the change
/// must match both sides), so that an accepted change never carries an unrelated one with it.
public struct FingerprintComparison: Sendable, Hashable {
    public var diff: LineDiff
    /// Differing lines that an `accept` entry covers, with its reason.
    public var accepted: [(line: LineDiff.Line, reason: String)]
    /// Differing lines no `accept` entry covers: any of them fails the rehearsal.
    public var unaccepted: [LineDiff.Line]

    public init(before: String, after: String, settings: Fingerprint?) {
        let compare = settings?.comparedLines ?? LineDiff.lines(of:)
        diff = LineDiff(before: compare(before), after: compare(after))
        accepted = []
        unaccepted = []
        let acceptances = (settings?.accept ?? []).compactMap { entry in (try? Regex(entry.match.source)).map { ($0, entry.reason) } }
        for line in diff.lines where line.kind != .context {
            if let (_, reason) = acceptances.first(where: { line.text.contains($0.0) }) {
                accepted.append((line, reason))
            } else {
                unaccepted.append(line)
            }
        }
    }

    /// The copy did not come back: a difference the plan does not accept.
    public var differs: Bool { !unaccepted.isEmpty }

    public static func == (a: FingerprintComparison, b: FingerprintComparison) -> Bool {
        a.diff == b.diff && a.unaccepted == b.unaccepted && a.accepted.map(\.line) == b.accepted.map(\.line)
            && a.accepted.map(\.reason) == b.accepted.map(\.reason)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(diff)
        hasher.combine(unaccepted)
    }
}
