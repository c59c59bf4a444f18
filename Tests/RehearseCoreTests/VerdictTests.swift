import RehearseCore
import Testing

@Suite struct VerdictTests {
    func ran(_ kind: Activity.Kind, _ name: String, _ status: Execution.Status, exit: Int32 = 0) -> Execution {
        Execution(Activity(kind, name), status: status,
                  outcome: ProcessOutcome(termination: .exited(exit), startOffset: .zero, duration: .milliseconds(10)))
    }

    func judge(_ executions: [Execution], rollback: Duration? = .seconds(1), budget: Duration = .seconds(10),
               before: String? = nil, after: String? = nil, left: [String] = [], signal: Int32? = nil) -> Verdict {
        Verdict.judge(executions: executions, rollbackDuration: rollback, budget: budget,
                      fingerprintBefore: before, fingerprintAfter: after, leftApplied: left, interruptedBy: signal)
    }

    @Test func passesWithinBudget() {
        let verdict = judge([ran(.forward, "a", .passed), ran(.rollback, "a", .passed)])
        #expect(verdict.outcome == .passed)
        #expect(verdict.budgetShare == 0.1)
        #expect(!verdict.isNearBudget)
    }

    @Test func warnsFromEightyPercent() {
        #expect(judge([], rollback: .seconds(8)).isNearBudget)
        #expect(!judge([], rollback: .milliseconds(7999)).isNearBudget)
    }

    @Test func overBudgetOnlyWhenEverythingElsePassed() {
        #expect(judge([], rollback: .seconds(11)).outcome == .overBudget)
        #expect(judge([ran(.restored, "ok", .failed, exit: 1)], rollback: .seconds(11)).outcome == .failed)
    }

    @Test func aDeliberateCutIsNotAFailure() {
        let verdict = judge([Execution(Activity(.forward, "switch"), status: .injectedFailure)])
        #expect(verdict.outcome == .passed)
    }

    @Test func everyFailureIsAReason() {
        let verdict = judge([
            ran(.forward, "migrate", .failed, exit: 1),
            ran(.rollback, "deploy", .timedOut),
            Execution(Activity(.rollback, "backup"), status: .blocked),
            ran(.smoke, "v2 answers", .failed, exit: 22),
        ], before: "a\n", after: "b\n", left: ["deploy", "backup"])
        #expect(verdict.outcome == .failed)
        #expect(verdict.reasons == [
            "forward step 'migrate' failed (exit 1)",
            "rollback of 'deploy' failed (exit 0)",
            "rollback of 'backup' not run: a rollback it depends on failed",
            "smoke check 'v2 answers' failed (exit 22)",
            "the fingerprint after the rollback differs from the one before: the copy was not restored",
        ])
    }

    @Test func interruptionOutranksEverything() {
        let verdict = judge([ran(.forward, "a", .failed, exit: 1)], rollback: .seconds(60), signal: 15)
        #expect(verdict.outcome == .interrupted)
        #expect(verdict.signal == 15)
        #expect(Verdict.Outcome.interrupted > .failed)
        #expect(Verdict.Outcome.failed > .overBudget)
        #expect(Verdict.Outcome.overBudget > .passed)
    }
}
