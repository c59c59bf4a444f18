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

    /// A fingerprint's output as text without losing a byte: bytes that are not UTF-8 (Latin-1
    /// text, binary) become `\xNN`, so that two outputs that differ in them still differ.
    public static func text(of bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var output = [UInt8]()
        output.reserveCapacity(bytes.count + 16)
        var index = 0
        func hex(_ value: UInt8) -> [UInt8] { Array("\\x".utf8) + Array(String(value, radix: 16, uppercase: true).padding(2).utf8) }
        while index < bytes.count {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            if length > 0, index + length <= bytes.count, bytes[(index + 1)..<(index + length)].allSatisfy({ $0 >> 6 == 0b10 }),
               String(validating: bytes[index..<(index + length)], as: UTF8.self) != nil {
                output += bytes[index..<(index + length)]
                index += length
            } else {
                output += hex(lead)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The two fingerprints compared under these settings.
    public func compare(before: String, after: String) -> FingerprintComparison {
        FingerprintComparison(before: before, after: after, settings: self)
    }

    /// Two outputs, either of which may be kept only in part, compared under these settings.
    public func compare(before: FingerprintOutput, after: FingerprintOutput) -> FingerprintComparison {
        FingerprintComparison(before: before, after: after, settings: self)
    }

    /// Bytes of the longest line an `ignore` pattern can drop: a longer one is always compared.
    /// A reader holds no more than this of a line to match it, so that one huge line never sits
    /// in memory whole, and a pattern is never judged on part of a line (fail closed).
    public static let longestIgnorableLine = 64 * 1024

    /// Runs `body` with a predicate saying whether a line (as text) is compared, the `ignore`
    /// patterns compiled once; nil when the plan ignores no line (every byte is compared).
    public func withComparedLineFilter<T>(_ body: (((String) -> Bool)?) -> T) -> T {
        guard !ignore.isEmpty else { return body(nil) }
        return LinePattern.withMatcher(ignore.map(\.source)) { matcher in
            withoutActuallyEscaping({ (line: String) in line.utf8.count > Self.longestIgnorableLine || matcher(line) == nil }) { body($0) }
        }
    }

    /// The lines of an output that are compared: ignored ones dropped.
    public func comparedLines(_ output: String) -> [String] {
        let lines = LineDiff.lines(of: output)
        guard !ignore.isEmpty else { return lines }
        return withComparedLineFilter { compared in lines.filter { compared?($0) ?? true } }
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
        // The same bytes: nothing to diff (only whether the ignore patterns leave anything).
        if LineDiff.Key(before) == LineDiff.Key(after) {
            diff = LineDiff(before: [], after: [])
            accepted = []
            unaccepted = []
            let ignores = !(settings?.ignore.isEmpty ?? true)
            comparesNothing = ignores && !LineDiff.lines(of: before).isEmpty && (settings?.comparedLines(before).isEmpty ?? false)
            return
        }
        let compare = settings?.comparedLines ?? LineDiff.lines(of:)
        let beforeLines = compare(before), afterLines = compare(after)
        var diff = LineDiff(before: beforeLines, after: afterLines)
        // Lines alike, bytes not: only the final newline can differ then (or the ignored lines).
        if diff.isEmpty, settings?.ignore.isEmpty ?? true, !before.utf8.elementsEqual(after.utf8) {
            diff.lines.append(LineDiff.Line(kind: after.hasSuffix("\n") ? .added : .removed, text: "(a newline at the very end)"))
        }
        // Ignore patterns that drop every line the fingerprint printed compare nothing: they cannot
        // show that the copy came back. (An empty output is a state like any other; a probe shows
        // whether the fingerprint sees anything at all.)
        comparesNothing = beforeLines.isEmpty && afterLines.isEmpty && !(settings?.ignore.isEmpty ?? true)
            && !(LineDiff.lines(of: before).isEmpty && LineDiff.lines(of: after).isEmpty)
        self.diff = diff
        let acceptances = settings?.accept ?? []
        var accepted: [(line: LineDiff.Line, reason: String)] = []
        var unaccepted: [LineDiff.Line] = []
        LinePattern.withMatcher(acceptances.map(\.match.source)) { matcher in
            for line in diff.lines where line.kind != .context {
                if let index = matcher(line.text) {
                    accepted.append((line, acceptances[index].reason))
                } else {
                    unaccepted.append(line)
                }
            }
        }
        self.accepted = accepted
        self.unaccepted = unaccepted
    }

    /// Nothing was compared: both sides had no line (after `ignore`).
    public var comparesNothing: Bool

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
