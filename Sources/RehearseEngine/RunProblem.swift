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
        }
    }
}
