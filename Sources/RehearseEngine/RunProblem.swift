public import RehearseCore

/// Why a rehearsal (or a recovery) cannot start as asked: found before anything runs, and handed
/// back as data for the caller to print. Each is a usage problem, not a fault of the harness.
public enum RunProblem: Sendable, Hashable, CustomStringConvertible {
    /// The plan has no such target.
    case noSuchTarget(plan: String, file: String, target: String, available: [String])
    /// The target is protected and the request does not approve it by name.
    case protectedTarget(plan: String, target: String)
    /// The cut names a step that no plan has.
    case noStepForCut(Cut)
    /// The cut names a step that is never rehearsed: it is beyond the point of no return.
    case cutBeyondPointOfNoReturn(plan: String, Cut)
    /// `--copies N` with N above 1, but nothing of the target (its env, setup, teardown) nor any
    /// command uses `REHEARSE_COPY`: the cuts would share one copy and disturb each other.
    case copiesNotKeptApart(plan: String, target: String, copies: Int)
    /// A plan with a `window` and a fingerprint needs a control copy of its own: the target must
    /// make one (a `setup`) in a place of its own (`REHEARSE_COPY` in its env or setup).
    case controlNotKeptApart(plan: String, target: String)
    /// `recover` of a run whose harness is still alive.
    case stillRunning(run: Int64, pid: Int32, host: String)
    /// `recover` or a lookup named a run the history does not have.
    case noSuchRun(run: Int64, history: String)
    /// `go`, `go --finish` and `rollback` act on a live target: `--approve` must name it, protected or not.
    case liveNeedsApproval(plan: String, target: String)
    /// `go --finish` or `rollback` of a run that is a rehearsal.
    case notALiveRun(run: Int64)
    /// `go --finish` or `rollback` of a live run that is not applied and healthy.
    case liveRunNotApplied(run: Int64, status: RunStatus)
    /// `rollback` (or `recover`) of a live run whose irreversible steps ran.
    case pastPointOfNoReturn(run: Int64)
    /// `go --finish` of a plan with no step beyond its point of no return.
    case nothingIrreversible(run: Int64, plan: String)
    /// `recover` of a live run that is applied and healthy: rolling it back is the operator's
    /// decision, with `rehearse rollback`.
    case liveRunIsApplied(run: Int64, target: String)
    /// Another `recover` of the run took it first.
    case recoveryInProgress(run: Int64)
    /// `recover --assume-done STEP` names a step the run does not have left applied.
    case notLeftApplied(run: Int64, step: String, applied: [String])
    /// An earlier run left steps applied on the copy, which is still there (no teardown took it
    /// down, and the target has no setup to make it afresh): a run on it would start from a
    /// changed copy, and its verdict would not be about the copy it claims.
    /// (`copy` nil: a live target, which has no copies; `approve`: recovering it needs `--approve`.)
    case copyLeftApplied(run: Int64, plan: String, target: String, copy: Int?, steps: [String], approve: Bool)
    /// A go-live of the target is still applied (its `go --finish` or its `rollback` not done):
    /// another go-live, or a rehearsal, on it would run on top of it.
    case liveRunInProgress(run: Int64, plan: String, target: String)

    public var description: String {
        switch self {
        case .noSuchTarget(let plan, let file, let target, let available):
            "plan '\(plan)' (\(file)) has no target '\(target)'; its targets are \(available.joined(separator: ", "))"
        case .protectedTarget(let plan, let target):
            "target '\(target)' of plan '\(plan)' is protected"
        case .noStepForCut(let cut):
            "\(cut): no plan has a step '\(cut.step)'"
        case .cutBeyondPointOfNoReturn(let plan, let cut):
            "\(cut): in plan '\(plan)' that step is beyond the point of no return and is never rehearsed"
        case .copiesNotKeptApart(let plan, let target, let copies):
            "--copies \(copies): nothing in plan '\(plan)' (target '\(target)' or its commands) uses REHEARSE_COPY, so the cuts would share one copy"
        case .controlNotKeptApart(let plan, let target):
            "plan '\(plan)' has a window and a fingerprint, but target '\(target)' cannot make a control copy apart from the copy itself (it needs a setup, and REHEARSE_COPY in its env or setup)"
        case .stillRunning(let run, let pid, let host):
            "run \(run) is still running (pid \(pid) on \(host))"
        case .noSuchRun(let run, let history):
            "there is no run \(run) in \(history)"
        case .liveNeedsApproval(let plan, let target):
            "plan '\(plan)' would run live on target '\(target)', which needs the operator's approval by name"
        case .notALiveRun(let run):
            "run \(run) is a rehearsal, not a go-live"
        case .liveRunNotApplied(let run, let status):
            "run \(run) is \(status.rawValue): only a go-live that is applied and healthy can be finished or rolled back"
        case .pastPointOfNoReturn(let run):
            "run \(run) went past its point of no return (its irreversible steps ran): it cannot be rolled back"
        case .nothingIrreversible(let run, let plan):
            "plan '\(plan)' of run \(run) has no step beyond its point of no return: there is nothing to finish"
        case .liveRunIsApplied(let run, _):
            "run \(run) is a go-live that is applied and healthy: rolling it back is the operator's decision"
        case .recoveryInProgress(let run):
            "run \(run) is being recovered by another rehearse process"
        case .notLeftApplied(let run, let step, let applied):
            "--assume-done \(step): run \(run) does not have '\(step)' left applied (it has \(applied.isEmpty ? "nothing" : applied.joined(separator: ", ")))"
        case .liveRunInProgress(let run, let plan, let target):
            "run \(run) (\(plan)) is a go-live still applied on target '\(target)'"
        case .copyLeftApplied(let run, let plan, let target, let copy, let steps, _):
            (copy.map { "copy \($0) of target '\(target)'" } ?? "target '\(target)'")
                + " still has what run \(run) (\(plan)) left applied: \(steps.joined(separator: ", "))"
        }
    }

    /// What the operator can do about it.
    public var fix: String {
        switch self {
        case .noSuchTarget: "pass one of them with --target"
        case .protectedTarget(_, let target): "pass --approve \(target) if you really mean to run against it"
        case .noStepForCut: "name a step of the plan ('rehearse check' lists them)"
        case .cutBeyondPointOfNoReturn: "cut at a step before it ('rehearse check' lists the order)"
        case .copiesNotKeptApart: "place each copy apart with $REHEARSE_COPY (e.g. env: { APP_ROOT: '../.rehearse/copy-$REHEARSE_COPY' }), or run with --copies 1"
        case .controlNotKeptApart: "give the target a setup that makes a fresh copy, placed by $REHEARSE_COPY (e.g. env: { APP_ROOT: '../.rehearse/copy-$REHEARSE_COPY' })"
        case .stillRunning: "interrupt it (Ctrl-C rolls it back), or wait for it to end"
        case .noSuchRun: "'rehearse history' lists the runs"
        case .liveNeedsApproval(_, let target): "pass --approve \(target) to go live on it"
        case .notALiveRun(let run): "'rehearse history' lists live runs; 'rehearse recover \(run)' rolls back what a rehearsal left applied"
        case .liveRunNotApplied: "'rehearse show RUN' says what happened to it"
        case .pastPointOfNoReturn: "roll forward: fix the new version, or follow the plan B of the runbook"
        case .nothingIrreversible: "nothing to do: the go-live is complete as it is"
        case .liveRunIsApplied(let run, let target): "rehearse rollback \(run) --approve \(target), if that is what you decide"
        case .recoveryInProgress: "wait for it to end; 'rehearse show RUN' then says what is left applied"
        case .notLeftApplied: "name a step that is left applied ('rehearse show RUN' lists them)"
        case .liveRunInProgress(let run, _, let target):
            "finish it (rehearse go --finish \(run) --approve \(target)) or roll it back (rehearse rollback \(run) --approve \(target)) first"
        case .copyLeftApplied(let run, _, let target, _, let steps, let approve):
            "roll it back first: rehearse recover \(run)\(approve ? " --approve \(target)" : "") (what you have checked is undone by hand: "
                + steps.map { "--assume-done \($0)" }.joined(separator: " ") + ")"
        }
    }
}
