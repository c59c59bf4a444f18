public import Foundation

/// The go-live day's question: has this exact plan passed a rehearsal recently enough?
///
/// "Go" only when the latest finished rehearsal of this plan's exact content (by hash) on the
/// rehearsal target passed within the window. Otherwise "no-go", with the reason an operator needs.
public struct GateDecision: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        case neverRehearsed(target: String)
        /// No rehearsal of this content: the plan changed since the last one (`run` is the last passing
        /// rehearsal of the plan, or else its latest run).
        case changedSince(run: Int64, changes: RunComparison.PlanChanges)
        case lastRehearsalDidNotPass(run: Int64, status: RunStatus, rollback: Duration?, budget: Duration, reasons: [RunReason])
        case tooLongAgo(run: Int64, at: Date, age: Duration, window: Duration)
    }

    public var isGo: Bool
    /// The run that justifies the answer, when there is one.
    public var run: Int64?
    public var reason: Reason?

    /// - Parameters:
    ///   - hash: the content hash of the plan as it is now.
    ///   - text: the plan's text as it is now.
    ///   - runs: finished runs of this plan (by name) on the rehearsal target, newest first.
    public static func decide(hash: String, text: String, runs: [Run], target: String, now: Date, within window: Duration) -> GateDecision {
        let finished = runs.filter { $0.status != .running }
        guard let newest = finished.first else {
            return GateDecision(isGo: false, run: nil, reason: .neverRehearsed(target: target))
        }
        guard let latest = finished.first(where: { $0.planHash == hash }) else {
            let reference = finished.first { $0.status == .passed } ?? newest
            return GateDecision(isGo: false, run: reference.id,
                                reason: .changedSince(run: reference.id, changes: RunComparison.changes(from: reference.planText, to: text)))
        }
        guard latest.status == .passed else {
            return GateDecision(isGo: false, run: latest.id, reason: .lastRehearsalDidNotPass(
                run: latest.id, status: latest.status, rollback: latest.rollback, budget: latest.budget, reasons: latest.reasons))
        }
        let finishedAt = latest.endedAt ?? latest.startedAt
        let age = Duration.seconds(now.timeIntervalSince(finishedAt))
        if age > window {
            return GateDecision(isGo: false, run: latest.id, reason: .tooLongAgo(run: latest.id, at: finishedAt, age: age, window: window))
        }
        return GateDecision(isGo: true, run: latest.id, reason: nil)
    }
}
