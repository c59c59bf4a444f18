import Foundation
import RehearseCore
import Testing

@Suite struct LineDiffTests {
    func diff(_ before: String, _ after: String) -> LineDiff {
        LineDiff(before: LineDiff.lines(of: before), after: LineDiff.lines(of: after))
    }

    func marks(_ diff: LineDiff) -> [String] {
        diff.lines.map { String($0.kind.rawValue) + $0.text }
    }

    @Test func identicalTextsHaveNoDifference() {
        #expect(diff("a\nb\n", "a\nb\n").isEmpty)
        #expect(diff("", "").isEmpty)
    }

    @Test func insertedAndDeletedLinesAreNamedWhereTheyAre() {
        let d = diff("a\nb\nc\nd\n", "a\nc\nd\ne\n")
        #expect(marks(d) == [" a", "-b", " c", " d", "+e"])
        #expect(d.removedCount == 1 && d.addedCount == 1)
    }

    /// The bug this replaced: pairing lines by position showed an unrelated line as "changed into"
    /// another. A new column in one table must not disturb the lines of the next.
    @Test func anInsertedLineDoesNotShiftTheRest() {
        let before = "jobs.id int\njobs.state text\nqueues.name text\nqueues.size int\n"
        let after = "jobs.id int\njobs.priority int\njobs.state text\nqueues.name text\nqueues.size int\n"
        #expect(marks(diff(before, after)) == [" jobs.id int", "+jobs.priority int", " jobs.state text", " queues.name text", " queues.size int"])
    }

    @Test func aMovedLineIsRemovedInOnePlaceAndAddedInAnother() {
        let d = diff("a\nb\nc\nd\ne\n", "a\nc\nd\nb\ne\n")
        #expect(d.removedCount == 1 && d.addedCount == 1)
        #expect(d.lines.filter { $0.kind != .context }.map(\.text) == ["b", "b"])
    }

    @Test func hunksCarryContextAndUnifiedHeaders() {
        let before = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let after = before.replacingOccurrences(of: "line 5\n", with: "line five\n").replacingOccurrences(of: "line 18\n", with: "")
        let hunks = diff(before, after).hunks(context: 2)
        #expect(hunks.count == 2)
        #expect(hunks[0].header == "@@ -3,5 +3,5 @@")
        #expect(hunks[0].lines.map { String($0.kind.rawValue) + $0.text } == [" line 3", " line 4", "-line 5", "+line five", " line 6", " line 7"])
        #expect(hunks[1].header == "@@ -16,5 +16,4 @@")
        let unified = diff(before, after).unified(context: 2)
        #expect(unified.hasPrefix("--- before\n+++ after\n@@ -3,5 +3,5 @@\n"))
        // Close changes share one hunk.
        #expect(diff("a\nb\nc\nd\n", "A\nb\nc\nD\n").hunks(context: 3).count == 1)
    }

    @Test func everythingDifferentIsAllRemovedAndAdded() {
        let d = diff("a\nb\n", "c\nd\ne\n")
        #expect(d.removedCount == 2 && d.addedCount == 3)
        #expect(d.hunks().first?.header == "@@ -1,2 +1,3 @@")
        #expect(diff("", "x\n").hunks().first?.header == "@@ -0,0 +1,1 @@")
    }

    /// 100,000 lines with a few changes: exact counts (the time is measured by Benchmarks/fingerprint-diff.sh).
    @Test func aLargeFingerprintWithFewChangesDiffsExactly() {
        let before = (0..<100_000).map { "orders \($0): \($0 * 37 % 20_000) cents" }
        var after = before
        after[10] = "orders 10: changed"
        after.remove(at: 50_000)
        after.insert("orders new: 1 cent", at: 90_000)
        let d = LineDiff(before: before, after: after)
        #expect(d.removedCount == 2)
        #expect(d.addedCount == 2)
        #expect(d.hunks().count == 3)
        // Repeated lines (no unique anchors) still align.
        let repeated = LineDiff(before: Array(repeating: "same", count: 1000) + ["x"], after: Array(repeating: "same", count: 999) + ["x", "y"])
        #expect(repeated.removedCount == 1 && repeated.addedCount == 1)
    }

    // MARK: - Settings

    func fingerprint(ignore: [String] = [], accept: [(String, String)] = []) -> Fingerprint {
        let here = SourceLocation(file: "p.yml", line: 1, column: 1)
        return Fingerprint(command: Command(run: "./digest", location: here), ignore: ignore.map { .init($0, location: here) },
                           accept: accept.map { .init(match: .init($0.0, location: here), reason: $0.1) })
    }

    /// pg_dump 15 writes a random `\restrict` line into every dump.
    @Test func ignoredLinesAreDroppedBeforeComparing() {
        let settings = fingerprint(ignore: [#"^\\restrict "#])
        let comparison = settings.compare(before: "\\restrict abc\nCREATE TABLE t;\n", after: "\\restrict xyz\nCREATE TABLE t;\n")
        #expect(comparison.diff.isEmpty)
        #expect(!comparison.differs)
        #expect(fingerprint().compare(before: "\\restrict abc\n", after: "\\restrict xyz\n").differs)
    }

    @Test func acceptedDifferencesAreReportedWithTheirReasonAndDoNotFail() {
        let settings = fingerprint(accept: [("^enum job_state ", "the down migration cannot drop an enum value")])
        let accepted = settings.compare(before: "enum job_state 'queued'\n", after: "enum job_state 'queued', 'paused'\n")
        #expect(!accepted.differs)
        // The changed line shows as removed and added: the pattern matches both sides.
        #expect(accepted.accepted.map(\.line.text) == ["enum job_state 'queued'", "enum job_state 'queued', 'paused'"])
        #expect(Set(accepted.accepted.map(\.reason)) == ["the down migration cannot drop an enum value"])
        let notAll = settings.compare(before: "enum job_state 'queued'\nrows 10\n", after: "enum job_state 'queued', 'paused'\nrows 9\n")
        #expect(notAll.differs)
        #expect(notAll.unaccepted.map(\.text) == ["rows 10", "rows 9"])
        // An accepted change beside an unrelated loss does not carry the loss with it.
        let legacy = fingerprint(accept: [("legacy", "kept for old clients")])
        let beside = legacy.compare(before: "table jobs\nenum state a,b\ncolumn x default 0\n", after: "table jobs\nenum state legacy\n")
        #expect(beside.differs)
        #expect(beside.unaccepted.map(\.text) == ["enum state a,b", "column x default 0"])
    }

    @Test func fingerprintSettingsAreReadAndCheckedFromThePlan() throws {
        let text = """
            strategy: custom
            targets: { copy: {} }
            fingerprint:
              run: ./digest
              ignore: [ '^\\\\restrict ', 'generated at' ]
              accept:
                - { match: "default 'now'", reason: "the down migration leaves the default" }
              probe: { run: ./probe change, undo: ./probe undo }
            steps: { a: { run: ./a, rollback: ./b } }
            """
        let plan = try #require(PlanParser().parse(text, file: "/p.yml", defaultName: "p").plan)
        let fingerprint = try #require(plan.fingerprint)
        #expect(fingerprint.run == "./digest")
        #expect(fingerprint.ignore.map(\.source) == [#"^\\restrict "#, "generated at"])
        #expect(fingerprint.accept.first?.reason == "the down migration leaves the default")
        #expect(fingerprint.probe?.undo.run == "./probe undo")
        #expect(plan.advice.isEmpty)
        // A bad pattern, an acceptance without a reason, a probe without an undo: each at its place.
        let bad = """
            strategy: custom
            targets: { copy: {} }
            fingerprint:
              run: ./digest
              ignore: [ '(unclosed' ]
              accept: [ { match: x } ]
              probe: { run: ./probe }
            steps: { a: { run: ./a, rollback: ./b } }
            """
        let result = PlanParser().parse(bad, file: "/p.yml", defaultName: "p")
        #expect(result.plan == nil)
        #expect(result.diagnostics.map(\.location.line) == [5, 6, 7])
        // The string form still works, and then check advises a probe.
        let simple = try #require(PlanParser().parse("strategy: custom\ntargets: { copy: {} }\nfingerprint: ./digest\nsteps: { a: { run: ./a, rollback: ./b } }\n",
                                                     file: "/p.yml", defaultName: "p").plan)
        #expect(simple.fingerprint?.run == "./digest")
        #expect(simple.advice.first?.message.contains("no probe") == true)
    }
}

extension LineDiffTests {
    /// Repeated lines with no unique anchor: aligned exactly up to 20,000 lines.
    @Test func repeatedLinesAlignExactlyWithinBounds() {
        let before = (0..<6000).map { $0 % 2 == 0 ? "x" : "y" }
        var after = before
        after[1000] = "changed"
        after[5000] = "changed too"
        let d = LineDiff(before: before, after: after)
        #expect(!d.isApproximate)
        #expect(d.removedCount == 2 && d.addedCount == 2)
    }
}

extension LineDiffTests {
    /// A pattern that backtracking matchers take exponential time over (`^(a+)+$` on a long line
    /// of `a`s ending in `b`) is matched by the C library's POSIX matcher, which does not blow up.
    @Test func aHostilePatternDoesNotHangTheComparison() {
        let settings = fingerprint(ignore: ["^(a+)+$"])
        let line = String(repeating: "a", count: 5_000) + "b"
        let comparison = settings.compare(before: line + "\n", after: line + "\nlost\n")
        #expect(comparison.differs)
        #expect(comparison.unaccepted.map(\.text) == ["lost"])
    }

    /// Differences a text comparison would hide: bytes that are not UTF-8, the two Unicode
    /// spellings of é, a final newline.
    @Test func differencesAreSeenByteForByte() {
        let latin1 = Fingerprint.text(of: Array("Ren".utf8) + [0xE9, 0x65])
        let other = Fingerprint.text(of: Array("Ren".utf8) + [0xE8, 0x65])
        #expect(latin1 == "Ren\\xE9e")
        #expect(fingerprint().compare(before: latin1, after: other).differs)
        #expect(fingerprint().compare(before: "caf\u{E9}\n", after: "cafe\u{301}\n").differs)
        #expect(fingerprint().compare(before: "x\n", after: "x").differs)
        #expect(!fingerprint().compare(before: "x\n", after: "x\n").differs)
    }

    /// A fingerprint whose ignore drops every line compares nothing (an empty output is a state).
    @Test func aFingerprintThatComparesNothingIsSaidToBe() {
        #expect(!fingerprint().compare(before: "", after: "").comparesNothing)
        let everything = fingerprint(ignore: [".*"])
        let wiped = everything.compare(before: "orders 10\n", after: "")
        #expect(wiped.comparesNothing)
        #expect(!fingerprint().compare(before: "a\n", after: "a\n").comparesNothing)
    }
}
