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
                    status: RunStatus = .passed, ended: Date = Date(), hash: String = "h") -> Run {
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
            id: id, planName: "p", planFile: "/p.yml", planText: text, planHash: hash, strategy: "custom", target: "copy",
            provenance: RunProvenance(host: "h", user: "u", pid: 1, toolVersion: "t"), startedAt: ended, endedAt: ended,
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
        guard case .changedSince(let run, let changes)? = decide([passed], hash: "other", text: Self.plan.replacingOccurrences(of: "./b,", with: "./b2,")).reason else {
            Issue.record("expected changedSince")
            return
        }
        #expect(run == 5)
        #expect(changes.changed.map(\.step) == ["b"])
        let failed = Self.run(6, forward: [:], rollback: [:], total: 5000, status: .overBudget, ended: now)
        guard case .lastRehearsalDidNotPass(6, .overBudget, let rollback?, _, _)? = decide([failed, passed]).reason else {
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
}
