import Foundation
import RehearseCore
import Testing

@Suite struct VerdictTests {
    func ran(_ kind: Activity.Kind, _ name: String, _ status: ActivityStatus, exit: Int32 = 0) -> ActivityRecord {
        ActivityRecord(Activity(kind, name), status: status, startOffset: .zero, duration: .milliseconds(10),
                       termination: .exited(exit), timedOut: status == .timedOut)
    }

    func judge(_ activities: [ActivityRecord], rollback: Duration? = .seconds(1), budget: Duration = .seconds(10),
               before: String? = nil, after: String? = nil, left: [String] = [], signal: Int32? = nil) -> Verdict {
        Verdict.judge(activities: activities, rollback: rollback, budget: budget,
                      fingerprintBefore: before.map(FingerprintOutput.init), fingerprintAfter: after.map(FingerprintOutput.init), leftApplied: left, interruptedBy: signal)
    }

    func run(rollback: Duration, budget: Duration = .seconds(10), status: RunStatus = .passed) -> Run {
        Run(id: 1, planName: "p", planFile: "p.yml", planText: "", planHash: "", strategy: "custom", target: "copy",
            provenance: RunProvenance(host: "h", user: "u", pid: 1, toolVersion: "t"), startedAt: .now, status: status,
            budget: budget, rollback: rollback)
    }

    @Test func passesWithinBudget() {
        let verdict = judge([ran(.forward, "a", .passed), ran(.rollback, "a", .passed)])
        #expect(verdict.status == .passed)
        #expect(verdict.reasons.isEmpty)
        #expect(run(rollback: .seconds(1)).budgetShare == 0.1)
        #expect(!run(rollback: .seconds(1)).isNearBudget)
    }

    @Test func warnsFromEightyPercent() {
        #expect(run(rollback: .seconds(8)).isNearBudget)
        #expect(!run(rollback: .milliseconds(7999)).isNearBudget)
        #expect(!run(rollback: .seconds(9), status: .failed).isNearBudget)
    }

    @Test func overBudgetOnlyWhenEverythingElsePassed() {
        #expect(judge([], rollback: .seconds(11)).status == .overBudget)
        #expect(judge([ran(.restored, "ok", .failed, exit: 1)], rollback: .seconds(11)).status == .failed)
    }

    @Test func aDeliberateCutIsNotAFailure() {
        let verdict = judge([ActivityRecord(Activity(.forward, "switch"), status: .injectedFailure)])
        #expect(verdict.status == .passed)
    }

    @Test func everyFailureIsAReasonWithAStableCode() {
        let verdict = judge([
            ran(.forward, "migrate", .failed, exit: 1),
            ran(.rollback, "deploy", .timedOut),
            ActivityRecord(Activity(.rollback, "backup"), status: .blocked),
            ran(.smoke, "v2 answers", .failed, exit: 22),
            ran(.teardown, "copy", .failed, exit: 3),
            ran(.fingerprintAfter, "fingerprint", .failed, exit: 4),
        ], before: "a\n", after: "b\n", left: ["deploy", "backup"])
        #expect(verdict.status == .failed)
        #expect(verdict.reasons.map(\.description) == [
            "forward step 'migrate' failed (exit 1)",
            "rollback of 'deploy' failed (timed out)",
            "rollback of 'backup' not run: a rollback it depends on failed",
            "smoke check 'v2 answers' failed (exit 22)",
            "teardown of target 'copy' failed (exit 3)",
            "the fingerprint command failed (exit 4)",
            "the fingerprint after the rollback differs from the one before: the copy was not restored",
        ])
        #expect(verdict.reasons.map(\.code) == [
            "step-failed", "rollback-failed", "rollback-blocked", "check-failed", "teardown-failed", "fingerprint-failed",
            "fingerprint-differs",
        ])
    }

    @Test func leftAppliedIsAReasonOnlyWhenNoRollbackFailureExplainsIt() {
        #expect(judge([], left: ["a"]).reasons == [.leftApplied(steps: ["a"])])
        #expect(judge([ActivityRecord(Activity(.rollback, "a"), status: .abandoned)], left: ["a"]).reasons == [.rollbackAbandoned(step: "a")])
    }

    @Test func interruptionOutranksEverything() {
        let verdict = judge([ran(.forward, "a", .failed, exit: 1)], rollback: .seconds(60), signal: 15)
        #expect(verdict.status == .interrupted)
        #expect(RunStatus.interrupted.severity > RunStatus.failed.severity)
        #expect(RunStatus.failed.severity > RunStatus.overBudget.severity)
        #expect(RunStatus.overBudget.severity > RunStatus.passed.severity)
    }

    /// Triggers and reasons are stored by code: every one reads back as itself.
    @Test(arguments: [
        RollbackTrigger.Reason.rehearsal, .injected(step: "switch"), .stepFailed(step: "a:b"), .smokeFailed(check: "v2 is live"),
        .interrupted(signal: 15),
    ])
    func triggerCodesRoundTrip(reason: RollbackTrigger.Reason) {
        #expect(RollbackTrigger.Reason(code: reason.code) == reason)
    }

    @Test func unknownTriggerCodesAreRefused() {
        #expect(RollbackTrigger.Reason(code: "interrupted:soon") == nil)
        #expect(RollbackTrigger.Reason(code: "planned rollback") == nil)
    }
}
