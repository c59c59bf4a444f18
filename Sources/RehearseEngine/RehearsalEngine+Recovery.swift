import Foundation
public import RehearseCore
public import RehearseRunner
public import RehearseStore

/// What `recover` asks.
public struct RecoveryRequest: Sendable {
    /// The run to recover; nil: the latest run with steps left applied.
    public var runID: Int64?
    /// The protected target the operator allows, by name.
    public var approve: String?
    public var killGrace: Duration
    public var jobs: Int
    /// `--assume-done STEP`: rollbacks the operator says completed (one that was in flight when a
    /// harness died, whose effect is done): recorded as such, and not run again.
    public var assumeDone: [String] = []
    /// `--wait`: how long to wait for another run that holds the target's copy.
    public var wait: Duration = .zero

    public init(runID: Int64? = nil, approve: String? = nil, killGrace: Duration = .seconds(5), jobs: Int = RehearsalOptions.defaultJobs) {
        self.runID = runID
        self.approve = approve
        self.killGrace = killGrace
        self.jobs = jobs
    }
}

/// What became of a recovery.
public enum RecoveryOutcome: Sendable {
    /// It could not start as asked (nothing was run).
    case refused(RunProblem)
    /// No run has steps left applied (nil), or this one has none.
    case nothingToRecover(Run?)
    /// The rollback ran; `stillApplied` is what it could not undo; `problems` why the copy is not
    /// shown to be back (a restored check failed, the fingerprint differs from the run's own
    /// before): empty when recovery verified it.
    case recovered(Run, stillApplied: [String], problems: [RunReason])
    /// The run's teardown ran: the copy its steps changed is gone, and nothing is rolled back
    /// against whatever is there now.
    case copyGone(Run)
    /// A later run's setup made the copy afresh, or its teardown took it down: what this run left
    /// applied went with the copy it was on, and nothing is rolled back against what is there now.
    case copyRemade(Run, by: Run)
}

extension RehearsalEngine {
    /// Rolls back what a run left applied, exactly as its journal shows (forward steps started and
    /// not rolled back), using the plan text recorded with the run, against the same target. What
    /// it does is recorded in the same run.
    ///
    /// - Parameter willRollBack: told the run and the steps just before the rollback starts.
    public func recover(
        _ request: RecoveryRequest, history: any HistoryStore, observer: any RunObserver = ObserverGroup([]),
        control: RunControl = RunControl(), willRollBack: @Sendable (Run, [String]) -> Void = { _, _ in },
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(EngineError) -> RecoveryOutcome {
        let recorded: Run?
        do throws(HistoryError) {
            let id: Int64? = if let runID = request.runID { runID } else { try await history.latestRecoverableRunID() }
            recorded = if let id { try await history.run(id: id) } else { nil }
        } catch {
            throw .history(error)
        }
        guard let recorded else {
            if let runID = request.runID { return .refused(.noSuchRun(run: runID, history: history.location)) }
            return .nothingToRecover(nil)
        }
        if recorded.status == .running {
            return .refused(.stillRunning(run: recorded.id, pid: recorded.pid, host: recorded.host))
        }
        // A live run that went well is live on purpose: undoing it is `rehearse rollback`'s
        // decision, and past its point of no return it cannot be undone at all.
        if recorded.kind == .live, recorded.status == .applied { return .refused(.liveRunIsApplied(run: recorded.id, target: recorded.target)) }
        if recorded.kind == .live, recorded.status == .completed { return .refused(.pastPointOfNoReturn(run: recorded.id)) }
        if recorded.stillApplied.isEmpty, !recorded.probeLeftApplied { return .nothingToRecover(recorded) }
        let parsed = PlanParser().parse(recorded.planText, file: recorded.planFile, defaultName: recorded.planName)
        guard let plan = parsed.plan else {
            throw EngineError(.invalidPlan(parsed.diagnostics, source: recorded.planText),
                              message: "the plan recorded with run \(recorded.id) no longer parses")
        }
        var applied = recorded.stillApplied(atomic: Set(plan.steps.filter(\.isAtomic).map(\.id)))
        for step in request.assumeDone where !applied.contains(step) {
            return .refused(.notLeftApplied(run: recorded.id, step: step, applied: applied))
        }
        if applied.isEmpty, !recorded.probeLeftApplied { return .nothingToRecover(recorded) }
        // A live run that started a step past its point of no return (a `go --finish` cut short)
        // cannot be undone: rolling back the steps before it would leave what cannot be undone
        // standing on what was.
        if recorded.kind == .live {
            let beyond = Set(plan.graph.beyondPointOfNoReturn().map { plan.steps[$0].id })
            if recorded.startedForwardSteps.contains(where: beyond.contains) { return .refused(.pastPointOfNoReturn(run: recorded.id)) }
        }
        // The teardown removed the copy: its rollbacks would run against nothing (or against a
        // new copy someone made since). What it left applied went with it.
        if recorded.tookDownItsCopy {
            do throws(HistoryError) {
                try await history.recordRecovery(run: recorded.id, stillApplied: [])
            } catch {
                throw .history(error)
            }
            return .copyGone(recorded)
        }
        if let target = plan.target(named: recorded.target), target.isProtected || recorded.kind == .live, request.approve != target.name {
            return .refused(.protectedTarget(plan: plan.name, target: target.name))
        }

        // Nothing else changes the copy meanwhile: the lock of the run's target and copy, held to the end.
        let lock = try await lockTarget(recorded.target, copy: recorded.copy, plan: plan.name, run: recorded.id, history: history,
                                        wait: request.wait)
        defer { lock.release() }
        // A later run made the copy afresh (its target's setup completed), or took it down: what
        // this one left went with the copy it was on.
        do throws(HistoryError) {
            if let later = try await history.latestRemakingRun(onTarget: recorded.target, copy: recorded.copy ?? 1,
                                                               host: recorded.kind == .live ? nil : recorded.host, after: recorded.id) {
                try await history.recordRecovery(run: recorded.id, stillApplied: [])
                return .copyRemade(recorded, by: later)
            }
        } catch {
            throw .history(error)
        }

        // One recovery of a run at a time: it holds the run (`running`, by this process) until it
        // ends, so that a second one is refused, and a recovery killed in turn leaves the run
        // abandoned again, its in-flight rollbacks marked and its processes found by the run's token.
        let held: Bool
        do throws(HistoryError) {
            held = try await history.reopenRun(recorded.id, expected: recorded.status, by: .current(toolVersion: toolVersion))
        } catch {
            throw .history(error)
        }
        guard held else { return .refused(.recoveryInProgress(run: recorded.id)) }
        var released = false
        func release() async throws(EngineError) {
            guard !released else { return }
            released = true
            do throws(HistoryError) {
                try await history.releaseRun(recorded.id, status: recorded.status, host: recorded.host, pid: recorded.pid)
            } catch {
                throw .history(error)
            }
        }
        // The operator's word for rollbacks whose effect is done: recorded, and not run again.
        var assumed: [ActivityRecord] = []
        for step in request.assumeDone {
            let record = ActivityRecord(Activity(.rollback, step), status: .assumedDone)
            do throws(HistoryError) {
                try await history.activityFinished(run: recorded.id, row: nil, record)
            } catch {
                try? await release()
                throw .history(error)
            }
            assumed.append(record)
            applied.removeAll { $0 == step }
        }

        // Steps with `rollback: none` have nothing to undo: not announced as rolled back.
        willRollBack(recorded, applied.filter { plan.step(withID: $0)?.rollbackCommand != nil })
        let logs: String
        do throws(EngineError) {
            logs = try logsFolder(for: recorded, in: history)
        } catch {
            try? await release()
            throw error
        }
        var options = RehearsalOptions(
            runID: String(recorded.id), target: recorded.target, jobs: request.jobs, copy: recorded.copy, killGrace: request.killGrace,
            logsFolder: logs, processMark: recorded.processMark)
        options.live = recorded.kind == .live
        options.stopStrayProcesses = recorded.kind == .rehearsal
        let (rehearsal, journal) = journaled(plan, options, run: recorded.id, history: history, observer: observer,
                                             control: control, warn: warn)
        // With a window, the copy is back when it equals the control (the window's writes kept).
        let windowRan = recorded.windowWritesRan
        // (Live data moves on: a live run's fingerprint is recorded, never compared.)
        let live = recorded.kind == .live
        let recovery = await rehearsal.rollBack(applied: applied, startedAt: recorded.startedAt,
                                                fingerprintBefore: live ? nil : (windowRan ? recorded.fingerprints.control : nil) ?? recorded.fingerprints.before,
                                                keptChecks: windowRan && !live, undoProbe: recorded.probeLeftApplied && !live,
                                                recordFingerprint: live,
                                                interrupted: recorded.activities.filter { $0.status == .inFlight }.map(\.activity))
        await journal.finish()
        do throws(HistoryError) {
            try await history.recordRecovery(run: recorded.id, stillApplied: recovery.stillApplied)
        } catch {
            warn("cannot record the recovery in \(error.path): \(error.message)")
        }
        try await release()
        var after = recorded
        after.activities += assumed + recovery.activities
        after.leftApplied = recovery.stillApplied
        after.fingerprints.after = recovery.fingerprintAfter ?? after.fingerprints.after
        return .recovered(after, stillApplied: recovery.stillApplied, problems: recovery.problems)
    }
}
