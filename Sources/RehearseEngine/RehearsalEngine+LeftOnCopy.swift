import Foundation
import RehearseCore
import RehearseRunner
import RehearseStore

/// What an earlier run left applied on a copy that is still the one it changed.
struct LeftOnCopy: Sendable {
    var run: Run
    /// Its steps the journal shows applied and not rolled back.
    var steps: [String]
}

extension RehearsalEngine {
    /// What runs of `host` (any host's: nil) left applied on `target`'s copy `copy`, when no
    /// run since made the copy afresh or took it down; nil when nothing is left there. Asked with
    /// the copy's lock held, so that no run starts or ends on it meanwhile.
    ///
    /// The newest run that may have left something decides (older ones ran before it, on the copy
    /// it then found); a go-live still applied is returned as it is (nothing runs on top of it).
    func leftOnCopy(target: String, copy: Int, host: String?, history: any HistoryStore) async throws(EngineError) -> LeftOnCopy? {
        let last: Run
        do throws(HistoryError) {
            guard let found = try await history.latestLeftoverRun(onTarget: target, copy: copy, host: host), !found.tookDownItsCopy,
                  try await history.latestRemakingRun(onTarget: target, copy: copy, host: host, after: found.id) == nil
            else { return nil }
            last = found
        } catch {
            throw .history(error)
        }
        if last.kind == .live, last.status == .applied { return LeftOnCopy(run: last, steps: last.stillApplied) }
        // An atomic step that failed on its own applied nothing (as `recover` reads it); a plan
        // text that no longer parses counts every started step.
        let atomic = last.recordedPlan.map { Set($0.steps.filter(\.isAtomic).map(\.id)) } ?? []
        // (A fingerprint probe left applied is not counted: `recover` undoes it with the recorded
        // undo, which may be the one that failed, and nothing else could free the copy.)
        let steps = last.status == .running ? last.stillApplied : last.stillApplied(atomic: atomic)
        return steps.isEmpty && last.status != .running ? nil : LeftOnCopy(run: last, steps: steps)
    }

    /// Before a run starts on a copy: one that an earlier run of this host left changed is
    /// refused, unless the target's setup makes the copy afresh (said; once that setup has
    /// completed, `recover` of the earlier run rolls nothing back on the new copy). A live target
    /// is every host's, and has no setup: a failed go-live that left it changed refuses the next.
    func checkCopy(_ plan: Plan, target: String, copy: Int, live: Bool, history: any HistoryStore,
                   warn: @escaping @Sendable (String) -> Void) async throws(EngineError) {
        let host = live ? nil : RunProvenance.current(toolVersion: toolVersion).host
        guard var left = try await leftOnCopy(target: target, copy: copy, host: host, history: history) else { return }
        if left.run.status == .running {
            // The copy's lock is this run's now: that run's harness is gone (this one may have
            // waited for it to end), not yet marked. Marked here, its processes stopped.
            let reaped: [HistoryAccess.Reaped]
            do throws(HistoryError) {
                reaped = try await HistoryAccess.reap(history, executor: executor)
            } catch {
                throw .history(error)
            }
            for reaped in reaped {
                warn("run \(reaped.run) was abandoned by a harness that died; stopped \(reaped.stoppedProcesses) process(es) it left running")
            }
            guard let again = try await leftOnCopy(target: target, copy: copy, host: host, history: history) else { return }
            guard again.run.status != .running else {
                let problem = RunProblem.stillRunning(run: again.run.id, pid: again.run.pid, host: again.run.host)
                throw EngineError(.refused([problem]), message: "\(problem), on copy \(copy) of target '\(target)': nothing was run",
                                  fix: "'rehearse history' marks it abandoned once its harness is gone; then 'rehearse recover \(again.run.id)'")
            }
            left = again
        }
        if left.run.kind == .live, left.run.status == .applied {
            let problem = RunProblem.liveRunInProgress(run: left.run.id, plan: left.run.planName, target: target)
            throw EngineError(.refused([problem]), message: "\(problem): nothing was run", fix: problem.fix)
        }
        if !live, plan.target(named: target)?.setup != nil {
            warn("run \(left.run.id) (\(left.run.planName)) left \(left.steps.joined(separator: ", ")) applied on copy \(copy) of target '\(target)'; "
                 + "the target's setup makes the copy afresh first (once it has, 'rehearse recover \(left.run.id)' rolls nothing back)")
            return
        }
        let problem = RunProblem.copyLeftApplied(run: left.run.id, plan: left.run.planName, target: target, copy: live ? nil : copy,
                                                 steps: left.steps, approve: live || plan.target(named: target)?.isProtected == true)
        throw EngineError(.refused([problem]),
                          message: "\(problem): a run on it would start from a changed \(live ? "target" : "copy"); nothing was run",
                          fix: problem.fix)
    }

    /// The fingerprint a run must find before its forward steps: the one an earlier run of this
    /// plan and host started from, when that run's rollback left the copy changed (its fingerprint
    /// differed with no step left applied, which ``checkCopy`` cannot see) and no run of the plan
    /// since passed there with a fingerprint, nor made the copy afresh or took it down. Nil
    /// without the same fingerprint command to compare by, with a window (the copy then comes
    /// back to the control), when the target's setup makes the copy afresh, or when the operator
    /// says the copy is restored (`--copy-restored`: the run's own pass then clears it).
    func startingFingerprint(_ plan: Plan, _ request: RehearsalRequest, copy: Int, live: Bool, history: any HistoryStore)
        async throws(EngineError) -> (run: Int64, fingerprint: FingerprintOutput)? {
        guard !live, !request.copyRestored, let fingerprint = plan.fingerprint, plan.window == nil,
              plan.target(named: request.target)?.setup == nil else { return nil }
        let host = RunProvenance.current(toolVersion: toolVersion).host
        do throws(HistoryError) {
            guard let last = try await history.latestUnclearedFingerprintDifference(plan: plan.name, target: request.target, copy: copy, host: host),
                  !last.tookDownItsCopy, last.fingerprints.control == nil,
                  let before = last.fingerprints.before,
                  last.recordedPlan?.fingerprint?.run == fingerprint.run,
                  try await history.latestRemakingRun(onTarget: request.target, copy: copy, host: host, after: last.id) == nil
            else { return nil }
            return (last.id, before)
        } catch {
            throw .history(error)
        }
    }
}
