import Foundation
import RehearseCore
import RehearseStore

/// What an earlier run left applied on a copy that is still there.
struct LeftOnCopy: Sendable {
    var run: Run
    /// Its steps the journal shows applied and not rolled back (the fingerprint's probe too).
    var steps: [String]
}

extension RehearsalEngine {
    /// What the newest run on `target`'s copy `copy` left applied there, when the copy is still
    /// the one it changed (its teardown did not take it down); nil when it left nothing. Asked
    /// with the copy's lock held, so that no run starts or ends on it meanwhile.
    ///
    /// A live run that is applied (or complete) is live on purpose: it is not a leftover.
    func leftOnCopy(target: String, copy: Int, history: any HistoryStore) async throws(EngineError) -> LeftOnCopy? {
        let last: Run?
        do throws(HistoryError) {
            last = try await history.latestRun(onTarget: target, copy: copy)
        } catch {
            throw .history(error)
        }
        guard let last, !last.tookDownItsCopy else { return nil }
        if last.kind == .live, last.status == .applied || last.status == .completed { return nil }
        // An atomic step that failed on its own applied nothing (as `recover` reads it); a plan
        // text that no longer parses counts every started step.
        let atomic = PlanParser().parse(last.planText, file: last.planFile, defaultName: last.planName).plan
            .map { Set($0.steps.filter(\.isAtomic).map(\.id)) } ?? []
        var steps = last.status == .running ? last.stillApplied : last.stillApplied(atomic: atomic)
        if last.probeLeftApplied { steps.append("fingerprint probe") }
        return steps.isEmpty ? nil : LeftOnCopy(run: last, steps: steps)
    }

    /// Before a run starts on a copy: one an earlier run left changed is refused, unless the
    /// target's setup makes the copy afresh (said, and the earlier run's leftovers are then
    /// gone with the copy they were on: `recover` says so).
    func checkCopy(_ plan: Plan, target: String, copy: Int, live: Bool, history: any HistoryStore,
                   warn: @Sendable (String) -> Void) async throws(EngineError) {
        guard let left = try await leftOnCopy(target: target, copy: copy, history: history) else { return }
        if left.run.status == .running {
            // The copy's lock is this run's: the harness of that one is gone, and not marked yet.
            let problem = RunProblem.stillRunning(run: left.run.id, pid: left.run.pid, host: left.run.host)
            throw EngineError(.refused([problem]), message: "\(problem), on copy \(copy) of target '\(target)': nothing was run",
                              fix: "'rehearse history' marks it abandoned once its harness is gone; then 'rehearse recover \(left.run.id)'")
        }
        if !live, plan.target(named: target)?.setup != nil {
            warn("run \(left.run.id) (\(left.run.planName)) left \(left.steps.joined(separator: ", ")) applied on copy \(copy) of target '\(target)'; "
                 + "the target's setup makes the copy afresh, and 'rehearse recover \(left.run.id)' will no longer roll them back")
            return
        }
        let problem = RunProblem.copyLeftApplied(run: left.run.id, plan: left.run.planName, target: target, copy: copy, steps: left.steps)
        throw EngineError(.refused([problem]),
                          message: "\(problem): a run on it would start from a changed copy; nothing was run",
                          fix: problem.fix)
    }
}
