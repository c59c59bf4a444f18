import Foundation
import RehearseCore
import Testing

@Suite struct RunComparisonTests {
    static let plan = """
        strategy: custom
        targets: { copy: {} }
        steps:
          a: { run: ./a, rollback: ./undo-a }
          b: { run: ./b, rollback: ./undo-b, needs: a }
        """

    static func run(_ id: Int64, forward: [String: Int], rollback: [String: Int], total: Int, text: String = plan,
                    status: RunStatus = .passed, ended: Date = Date(), hash: String = "h", cut: Cut? = nil,
                    group: RunGroup? = nil, inputs: [String: String] = [:], plan: String = "p") -> Run {
        var activities: [ActivityRecord] = []
        for (name, ms) in forward.sorted(by: { $0.key < $1.key }) {
            activities.append(ActivityRecord(Activity(.forward, name), status: .passed, startOffset: .zero,
                                             duration: .milliseconds(ms), termination: .exited(0)))
        }
        for (name, ms) in rollback.sorted(by: { $0.key > $1.key }) {
            activities.append(ActivityRecord(Activity(.rollback, name), status: .passed, startOffset: .zero,
                                             duration: .milliseconds(ms), termination: .exited(0)))
        }
        return Run(
            id: id, planName: plan, planFile: "/p.yml", planText: text, planHash: hash, strategy: "custom", target: "copy",
            provenance: RunProvenance(host: "h", user: "u", pid: 1, toolVersion: "t"), cut: cut, stepCount: 2, group: group,
            inputHashes: inputs, startedAt: ended, endedAt: ended,
            status: status, budget: .seconds(4), forward: .milliseconds(10), rollback: .milliseconds(total),
            reasons: status == .passed ? [] : [.rollbackFailed(step: "a", how: "exit 1")], activities: activities)
    }

    @Test func regressionsNeedBothRelativeAndAbsoluteChange() {
        let thresholds = RunComparison.Thresholds()
        #expect(thresholds.isRegression(from: .milliseconds(1000), to: .milliseconds(1300)))   // +30%, +300ms
        #expect(!thresholds.isRegression(from: .milliseconds(100), to: .milliseconds(300)))    // +200%, but only 200ms
        #expect(!thresholds.isRegression(from: .seconds(10), to: .milliseconds(11_500)))       // +1.5s, but only 15%
        #expect(!thresholds.isRegression(from: .seconds(2), to: .seconds(1)))
        #expect(!thresholds.isRegression(from: nil, to: .seconds(1)))
    }

    @Test func comparesStepBySTep() {
        let a = Self.run(1, forward: ["a": 100, "b": 1000], rollback: ["a": 100, "b": 1000], total: 1100)
        let b = Self.run(2, forward: ["a": 110, "b": 1000], rollback: ["a": 100, "b": 2000], total: 2100)
        let comparison = RunComparison(before: .init(run: a), after: .init(run: b))
        #expect(comparison.rows.map(\.step) == ["a", "b"])
        #expect(comparison.regressions.map(\.step) == ["b"])
        #expect(comparison.rows[1].rollback.delta == .seconds(1))
        #expect(comparison.rows[1].rollback.relative == 1.0)
        #expect(comparison.rollbackTotal.isRegression)
        #expect(comparison.planChanges.isEmpty)
    }

    @Test func baselineIsTheMedianOfPreviousRuns() {
        let runs = [300, 100, 200].enumerated().map { index, ms in
            Self.run(Int64(index + 1), forward: ["a": ms], rollback: ["a": ms], total: ms)
        }
        let side = RunComparison.Side(medianOf: runs)
        #expect(side.forward["a"] == .milliseconds(200))
        #expect(side.rollbackTotal == .milliseconds(200))
        #expect(side.label == "median of 3 runs (1, 2, 3)")
        let even = RunComparison.Side(medianOf: Array(runs.prefix(2)))
        #expect(even.forward["a"] == .milliseconds(200))
    }

    @Test func planChangesAreFoundStepByStep() {
        let newer = """
            strategy: custom
            budget: { rollback: 2m }
            targets: { copy: {} }
            steps:
              a: { run: ./a --fast, rollback: ./undo-a }
              c: { run: ./c, rollback: ./undo-c, needs: a }
            """
        let changes = RunComparison.changes(from: Self.plan, to: newer)
        #expect(changes.added == ["c"])
        #expect(changes.removed == ["b"])
        #expect(changes.changed.map(\.step) == ["a"])
        #expect(changes.changed.first?.fields == ["run"])
        #expect(changes.budgetChanged?.1 == .seconds(120))
    }

    @Test func gateSaysGoOnlyForARecentPassOfThisExactPlan() {
        let now = Date()
        func decide(_ runs: [Run], hash: String = "h", text: String = Self.plan) -> GateDecision {
            GateDecision.decide(hash: hash, text: text, runs: runs, target: "copy", now: now, within: .seconds(48 * 3600))
        }
        let passed = Self.run(5, forward: [:], rollback: [:], total: 100, ended: now.addingTimeInterval(-3600))
        #expect(decide([passed]).isGo)
        #expect(decide([]).reason == .neverRehearsed(target: "copy"))
        guard case .changedSince(let run, let changes, _)? = decide([passed], hash: "other", text: Self.plan.replacingOccurrences(of: "./b,", with: "./b2,")).reason else {
            Issue.record("expected changedSince")
            return
        }
        #expect(run == 5)
        #expect(changes.changed.map(\.step) == ["b"])
        let failed = Self.run(6, forward: [:], rollback: [:], total: 5000, status: .overBudget, ended: now)
        guard case .lastRehearsalDidNotPass(6, .overBudget, let rollback?, _, _, nil)? = decide([failed, passed]).reason else {
            Issue.record("expected lastRehearsalDidNotPass")
            return
        }
        #expect(rollback == .seconds(5))
        let old = Self.run(4, forward: [:], rollback: [:], total: 100, ended: now.addingTimeInterval(-72 * 3600))
        guard case .tooLongAgo(4, _, let age, _)? = decide([old]).reason else {
            Issue.record("expected tooLongAgo")
            return
        }
        #expect(age > .seconds(71 * 3600))
        // A run still in progress is not a verdict.
        let running = Self.run(7, forward: [:], rollback: [:], total: 0, status: .running, ended: now)
        #expect(decide([running, passed]).isGo)
    }

    // MARK: - What the gate counts

    static let now = Date()

    func decide(_ runs: [Run], inputs: [String: String] = [:], requiring: GateDecision.Requirement = .rehearsal) -> GateDecision {
        GateDecision.decide(hash: "h", text: Self.plan, inputs: inputs, runs: runs, target: "copy", now: Self.now,
                            within: .seconds(48 * 3600), requiring: requiring)
    }

    func run(_ id: Int64, _ status: RunStatus = .passed, cut: Cut? = nil, group: RunGroup? = nil, rollback: Int = 100) -> Run {
        Self.run(id, forward: [:], rollback: [:], total: rollback, status: status, ended: Self.now.addingTimeInterval(Double(id) - 100),
                 cut: cut, group: group)
    }

    /// The reported bug: a passing --fail-at after failing full rehearsals answered GO.
    @Test func aPassingCutAloneIsNeverAGo() {
        let decision = decide([run(3, cut: .failAt("b")), run(2, .failed), run(1, .failed)])
        #expect(!decision.isGo)
        // The newest that says something is the failed full rehearsal.
        guard case .lastRehearsalDidNotPass(2, .failed, _, _, _, nil)? = decision.reason else {
            Issue.record("expected the failed full rehearsal, got \(String(describing: decision.reason))")
            return
        }
        let onlyCuts = decide([run(2, cut: .before("b")), run(1, cut: .failAt("a"))])
        #expect(!onlyCuts.isGo)
        #expect(onlyCuts.reason == .nothingCounts(runs: [2, 1], requirement: .rehearsal))
    }

    @Test func aPassingCutAfterAPassingFullRehearsalLeavesItGo() {
        let decision = decide([run(2, cut: .failAt("b")), run(1)])
        #expect(decision.isGo)
        #expect(decision.evidence?.kind == .fullRehearsal)
        #expect(decision.evidence?.run == 1)
    }

    @Test func aFailingCutAfterAPassingFullRehearsalIsNoGo() {
        let decision = decide([run(2, .failed, cut: .failAt("b")), run(1)])
        #expect(!decision.isGo)
        guard case .lastRehearsalDidNotPass(2, .failed, _, _, _, .failAt("b"))? = decision.reason else {
            Issue.record("expected the failed cut, got \(String(describing: decision.reason))")
            return
        }
    }

    @Test func anEveryCutGroupCountsWhenAllItsCutsPassed() {
        let group = RunGroup(id: "g1", size: 3)
        let runs = [run(3, group: group, rollback: 50), run(2, cut: .failAt("b"), group: group, rollback: 300), run(1, cut: .failAt("a"), group: group)]
        let decision = decide(runs)
        #expect(decision.isGo)
        #expect(decision.evidence?.kind == .everyCut(group: "g1", rehearsals: 3))
        // The worst cut is named: the one with the longest rollback against its budget.
        #expect(decision.evidence?.run == 2)
        #expect(decision.evidence?.worstCut == .failAt("b"))
        #expect(decide(runs, requiring: .everyCut).isGo)
        // One failing cut fails the group, whatever passed before it.
        let failing = [run(6, group: RunGroup(id: "g2", size: 3)), run(5, .overBudget, cut: .failAt("b"), group: RunGroup(id: "g2", size: 3)),
                       run(4, cut: .failAt("a"), group: RunGroup(id: "g2", size: 3))] + runs
        let noGo = decide(failing)
        #expect(!noGo.isGo)
        guard case .lastRehearsalDidNotPass(5, .overBudget, _, _, _, .failAt("b"))? = noGo.reason else {
            Issue.record("expected the failing cut of the group, got \(String(describing: noGo.reason))")
            return
        }
    }

    /// The reverse order: a cut failed, then a full rehearsal of the same content passed. The
    /// rollback from that cut is still broken: no-go, until that cut passes or a group does.
    @Test func aFailedCutStandsAgainstALaterFullPass() {
        let decision = decide([run(2), run(1, .failed, cut: .failAt("b"))])
        #expect(!decision.isGo)
        guard case .cutStillFailing(1, .failAt("b"), .failed, _, _, _)? = decision.reason else {
            Issue.record("expected the standing failed cut, got \(String(describing: decision.reason))")
            return
        }
        // An over-budget cut stands too; a failed group's failing cut likewise.
        #expect(!decide([run(2), run(1, .overBudget, cut: .before("b"))]).isGo)
        let failedGroup = RunGroup(id: "g", size: 2)
        #expect(!decide([run(3), run(2, group: failedGroup), run(1, .failed, cut: .failAt("a"), group: failedGroup)]).isGo)
        // Cleared by a later pass from the same cut...
        #expect(decide([run(3), run(2, cut: .failAt("b")), run(1, .failed, cut: .failAt("b"))]).isGo)
        // ...but not by a pass from another cut...
        #expect(!decide([run(3), run(2, cut: .failAt("a")), run(1, .failed, cut: .failAt("b"))]).isGo)
        // ...or by a later every-cut group whose cuts all passed.
        let group = RunGroup(id: "ok", size: 2)
        #expect(decide([run(3, group: group), run(2, cut: .failAt("a"), group: group), run(1, .failed, cut: .failAt("b"))]).isGo)
        // A failed cut older than the window no longer stands.
        let old = Self.run(1, forward: [:], rollback: [:], total: 1, status: .failed, ended: Self.now.addingTimeInterval(-72 * 3600), cut: .failAt("b"))
        #expect(decide([run(2), old]).isGo)
    }

    @Test func anUnfinishedGroupProvesNothing() {
        let group = RunGroup(id: "g", size: 3)
        let partial = [run(2, cut: .failAt("b"), group: group), run(1, cut: .failAt("a"), group: group)]
        #expect(decide(partial).reason == .nothingCounts(runs: [2, 1], requirement: .rehearsal))
        // A run of the group still going: not finished either.
        let going = [run(3, .running, group: group)] + partial
        #expect(!decide(going).isGo)
        // A shard's group is a slice: its full rehearsal counts on its own, the slice does not.
        let shard = RunGroup(id: "s", size: 2, shard: "1/2")
        let sharded = [run(2, group: shard), run(1, cut: .failAt("a"), group: shard)]
        #expect(decide(sharded).evidence?.kind == .fullRehearsal)
        #expect(!decide(sharded, requiring: .everyCut).isGo)
    }

    @Test func everyCutRequiredPassesOverFullRehearsals() {
        let decision = decide([run(1)], requiring: .everyCut)
        #expect(!decision.isGo)
        #expect(decision.reason == .nothingCounts(runs: [1], requirement: .everyCut))
    }

    @Test func theGateNamesTheInputsThatChanged() {
        let old = Self.run(1, forward: [:], rollback: [:], total: 1, hash: "old", inputs: ["m/1.sql": "x", "m/2.sql": "y", "gone.sh": "z"])
        let decision = decide([old], inputs: ["m/1.sql": "x", "m/2.sql": "CHANGED", "new.sh": "n"])
        guard case .changedSince(1, _, let inputs)? = decision.reason else {
            Issue.record("expected changedSince")
            return
        }
        #expect(inputs == InputChanges(changed: ["m/2.sql"], added: ["new.sh"], removed: ["gone.sh"]))
    }

    // MARK: - compare judges the rollback

    @Test func onlyRollbackRegressionsCountUnlessForwardIsIncluded() {
        // Forward 1s -> 2s; rollback 23% faster: not a regression by default.
        let a = Self.run(1, forward: ["a": 1000], rollback: ["a": 1300], total: 1300)
        let b = Self.run(2, forward: ["a": 2000], rollback: ["a": 1000], total: 1000)
        let comparison = RunComparison(before: .init(run: a), after: .init(run: b))
        #expect(!comparison.hasRegression)
        #expect(comparison.forwardSlowdowns.map(\.step) == ["a"])
        let wide = RunComparison(before: .init(run: a), after: .init(run: b), includeForward: true)
        #expect(wide.hasRegression)
        #expect(wide.regressions.map(\.step) == ["a"])
        // A slower rollback always counts.
        let slower = RunComparison(before: .init(run: b), after: .init(run: a))
        #expect(slower.hasRegression)
        #expect(!slower.comparesDifferentPlans)
        #expect(slower.before.outcomes == ["run 2 passed (full rehearsal)"])
        let other = Self.run(3, forward: [:], rollback: [:], total: 1, cut: .failAt("a"), plan: "q")
        let mixed = RunComparison(before: .init(run: a), after: .init(run: other))
        #expect(mixed.comparesDifferentPlans)
        #expect(mixed.after.outcomes == ["run 3 passed (fail at a)"])
    }
}
