import Foundation
public import RehearseCore
public import RehearseRunner
public import RehearseStore

/// What `rehearse go` asks: the live target, the operator's approval of it, and the gate it must pass.
public struct GoLiveRequest: Sendable {
    /// The live target (usually a protected one).
    public var target: String
    /// `--approve`: must name the target exactly, protected or not.
    public var approve: String?
    /// The gate: the target the rehearsal ran on, how recent it must be, and what must have passed.
    public var from: String
    public var within: Duration
    public var requirement: GateDecision.Requirement
    /// `--watch` and `--every`: the smoke checks again for a while after they first pass.
    public var watch: RehearsalOptions.Watch?
    public var jobs: Int
    public var killGrace: Duration
    public var liveOutput: (@Sendable (Activity, String) -> Void)?
    /// Most bytes each command's log keeps (nil: all).
    public var logLimit: Int? = RehearsalOptions.defaultLogLimit
    /// `--wait`: how long to wait for another run that holds the target.
    public var wait: Duration = .zero

    public init(
        target: String, approve: String?, from: String = "copy", within: Duration = .seconds(48 * 3600),
        requirement: GateDecision.Requirement = .rehearsal, watch: RehearsalOptions.Watch? = nil,
        jobs: Int = RehearsalOptions.defaultJobs, killGrace: Duration = .seconds(5),
        liveOutput: (@Sendable (Activity, String) -> Void)? = nil
    ) {
        self.target = target
        self.approve = approve
        self.from = from
        self.within = within
        self.requirement = requirement
        self.watch = watch
        self.jobs = jobs
        self.killGrace = killGrace
        self.liveOutput = liveOutput
    }
}

/// How a live run is set up: recorded with it before anything runs.
struct LiveRun: Sendable {
    var approval: Approval
    var evidence: String
    var evidenceRun: Int64
    var watch: RehearsalOptions.Watch?
}

/// What became of `rehearse go`.
public enum GoLiveOutcome: Sendable {
    /// It could not start as asked (no approval, no such target): nothing ran.
    case refused(RunProblem)
    /// The gate said no-go: nothing ran.
    case noGo(GateDecision)
    /// The plan's inputs cannot be read, so its content cannot be shown to be what was rehearsed:
    /// a no-go, nothing ran.
    case contentUnknown(String)
    /// It ran: applied and healthy, rolled back, or failed. The gate's decision it rested on.
    case ran(Run, gate: GateDecision)
}

/// A live run looked up for `go --finish` or `rollback`: found with its recorded plan, or why not.
enum LiveRunLookup {
    case found(Run, Plan)
    case problem(RunProblem)
}

/// What became of `go --finish` or `rollback` of a live run.
public enum LiveRunOutcome: Sendable {
    case refused(RunProblem)
    /// The run as it is now: `completed` or `failed` after a finish; `rolled-back`, `over-budget`,
    /// `failed` or `interrupted` after a rollback.
    case done(Run)
}

extension RehearsalEngine {
    /// The go-live itself: only when the gate says go for this exact content, it runs the plan on
    /// the live target as it was rehearsed, up to the point of no return (irreversible steps and
    /// what needs them wait for ``finishLive(_:approve:history:observer:control:warn:)``), then the
    /// smoke checks and the watch. A failing step or check, a timeout or a signal triggers the
    /// rollback, timed from the trigger and held against the budget.
    ///
    /// On a live target the target's setup and teardown, the fingerprint's probe and the window do
    /// not run, the fingerprint is recorded but never compared, and what the steps started keeps
    /// running. The approval (who, from where, when) and the gate's evidence are recorded with the run.
    public func goLive(
        _ plan: Plan, _ request: GoLiveRequest, history: any HistoryStore, observer: any RunObserver = ObserverGroup([]),
        control: RunControl = RunControl(), warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(EngineError) -> GoLiveOutcome {
        guard let target = plan.target(named: request.target) else {
            return .refused(.noSuchTarget(plan: plan.name, file: plan.file, target: request.target, available: plan.targets.map(\.name)))
        }
        guard request.approve == target.name else { return .refused(.liveNeedsApproval(plan: plan.name, target: target.name)) }
        let content: PlanContent
        do throws(PlanContent.UnreadableInput) {
            content = try PlanContent.of(plan)
        } catch {
            return .contentUnknown("\(error)")
        }
        let rehearsals: [Run]
        do throws(HistoryError) {
            rehearsals = try await history.runs(plan: plan.name, target: request.from, limit: 1000)
        } catch {
            throw .history(error)
        }
        let decision = GateDecision.decide(hash: content.hash, text: plan.source, inputs: content.inputs, runs: rehearsals,
                                           target: request.from, now: clock.date, within: request.within,
                                           requiring: request.requirement)
        guard decision.isGo, let evidence = decision.evidence else { return .noGo(decision) }

        let provenance = RunProvenance.current(toolVersion: toolVersion)
        let live = LiveRun(approval: Approval(target: target.name, user: provenance.user, host: provenance.host,
                                              at: Run.recordedTime(clock.date)),
                           evidence: Self.describe(evidence), evidenceRun: evidence.run, watch: request.watch)
        var rehearsalRequest = RehearsalRequest(target: target.name, approve: request.approve, jobs: request.jobs,
                                                killGrace: request.killGrace, liveOutput: request.liveOutput,
                                                stopStrayProcesses: false)
        rehearsalRequest.logLimit = request.logLimit
        rehearsalRequest.wait = request.wait
        let run = try await rehearseOne(plan, rehearsalRequest, cut: nil, group: nil, copy: nil, content: content, history: history,
                                        observer: observer, control: control, warn: warn, live: live)
        return .ran(run, gate: decision)
    }

    /// `run 12` or `every-cut group 3f2a9c1b (7 rehearsals)`: what a GO rested on, for the record.
    static func describe(_ evidence: GateDecision.Evidence) -> String {
        switch evidence.kind {
        case .fullRehearsal: "run \(evidence.run)"
        case .everyCut(let group, let count): "every-cut group \(group.prefix(8)) (\(count) rehearsals, worst run \(evidence.run))"
        case .repeated(let group, let count): "repeated group \(group.prefix(8)) (\(count) rehearsals, worst run \(evidence.run))"
        }
    }

    /// `rehearse go --finish RUN`: the steps beyond the point of no return of a live run that is
    /// applied and healthy, from the plan text recorded with it, then the smoke checks once more.
    /// Recorded in the same run, which ends `completed` (or `failed`: nothing is rolled back, these
    /// steps have no undo).
    public func finishLive(
        _ runID: Int64, approve: String?, killGrace: Duration = .seconds(5), wait: Duration = .zero, history: any HistoryStore,
        observer: any RunObserver = ObserverGroup([]), control: RunControl = RunControl(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(EngineError) -> LiveRunOutcome {
        let (run, plan) : (Run, Plan)
        switch try await liveRun(runID, approve: approve, history: history) {
        case .problem(let problem): return .refused(problem)
        case .found(let found, let recorded): (run, plan) = (found, recorded)
        }
        if plan.graph.beyondPointOfNoReturn().isEmpty { return .refused(.nothingIrreversible(run: run.id, plan: plan.name)) }
        let (rehearsal, journal, lock) = try await reopened(run, plan, killGrace: killGrace, wait: wait, history: history, observer: observer,
                                                            control: control, warn: warn)
        defer { lock.release() }
        let finish = await rehearsal.finishLive(startedAt: run.startedAt)
        await journal.finish()
        var after = run
        after.activities += finish.activities
        after.reasons = finish.problems
        after.status = finish.problems.isEmpty ? .completed : (control.firstSignal != nil ? .interrupted : .failed)
        return .done(try await close(after, history: history))
    }

    /// `rehearse rollback RUN`: rolls back a live run that is applied and healthy, at the operator's
    /// decision: exactly the steps its journal shows applied, in reverse dependency order, from the
    /// plan text recorded with it, then the restored checks. Timed from this moment (the trigger)
    /// and held against the budget; recorded in the same run.
    public func rollBackLive(
        _ runID: Int64, approve: String?, jobs: Int = RehearsalOptions.defaultJobs, killGrace: Duration = .seconds(5),
        wait: Duration = .zero, history: any HistoryStore, observer: any RunObserver = ObserverGroup([]), control: RunControl = RunControl(),
        willRollBack: @Sendable (Run, [String]) -> Void = { _, _ in }, warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(EngineError) -> LiveRunOutcome {
        let (run, plan) : (Run, Plan)
        switch try await liveRun(runID, approve: approve, history: history) {
        case .problem(let problem): return .refused(problem)
        case .found(let found, let recorded): (run, plan) = (found, recorded)
        }
        let applied = run.stillApplied(atomic: Set(plan.steps.filter(\.isAtomic).map(\.id)))
        willRollBack(run, applied.filter { plan.step(withID: $0)?.rollbackCommand != nil })
        let (rehearsal, journal, lock) = try await reopened(run, plan, jobs: jobs, killGrace: killGrace, wait: wait, history: history,
                                                            observer: observer, control: control, warn: warn)
        defer { lock.release() }
        let recovery = await rehearsal.rollBack(applied: applied, startedAt: run.startedAt, recordFingerprint: true)
        await journal.finish()
        var after = run
        after.trigger = RollbackTrigger(reason: .operatorDecision, offset: recovery.startOffset)
        after.activities += recovery.activities
        after.rollback = recovery.rollback
        after.leftApplied = recovery.stillApplied
        after.fingerprints.after = recovery.fingerprintAfter ?? after.fingerprints.after
        let verdict = Verdict.judgeLive(activities: recovery.activities, rolledBack: true, rollback: recovery.rollback,
                                        budget: plan.budget.rollback, leftApplied: recovery.stillApplied,
                                        interruptedBy: control.firstSignal, trigger: after.trigger)
        after.status = verdict.status
        after.reasons = verdict.reasons
        return .done(try await close(after, history: history))
    }

    /// The live run `runID` that is applied and healthy, with its recorded plan, when the
    /// operator approved its target by name.
    private func liveRun(_ runID: Int64, approve: String?, history: any HistoryStore) async throws(EngineError) -> LiveRunLookup {
        let found: Run?
        do throws(HistoryError) {
            found = try await history.run(id: runID)
        } catch {
            throw .history(error)
        }
        guard let run = found else { return .problem(.noSuchRun(run: runID, history: history.location)) }
        guard run.kind == .live else { return .problem(.notALiveRun(run: run.id)) }
        if run.status == .completed { return .problem(.pastPointOfNoReturn(run: run.id)) }
        guard run.status == .applied else { return .problem(.liveRunNotApplied(run: run.id, status: run.status)) }
        let parsed = PlanParser().parse(run.planText, file: run.planFile, defaultName: run.planName)
        guard let plan = parsed.plan else {
            throw EngineError(.invalidPlan(parsed.diagnostics, source: run.planText),
                              message: "the plan recorded with run \(run.id) no longer parses")
        }
        guard approve == run.target else { return .problem(.liveNeedsApproval(plan: plan.name, target: run.target)) }
        return .found(run, plan)
    }

    /// The run taken over by this process (`running` again, so that a second `finish` or
    /// `rollback` is refused and a kill leaves it abandoned and recoverable), and a rehearsal of
    /// its plan journaled into it.
    private func reopened(
        _ run: Run, _ plan: Plan, jobs: Int = RehearsalOptions.defaultJobs, killGrace: Duration, wait: Duration, history: any HistoryStore,
        observer: any RunObserver, control: RunControl, warn: @escaping @Sendable (String) -> Void
    ) async throws(EngineError) -> (Rehearsal, JournalRecorder, any TargetLease) {
        // The live target's lock first: nothing else runs on it meanwhile.
        let lock = try await lockTarget(run.target, copy: run.copy, plan: plan.name, run: run.id, history: history, wait: wait)
        let taken: Bool
        do throws(HistoryError) {
            taken = try await history.reopenRun(run.id, expected: .applied, by: .current(toolVersion: toolVersion))
        } catch {
            throw .history(error)
        }
        guard taken else {
            lock.release()
            throw EngineError(.refused([.liveRunNotApplied(run: run.id, status: .running)]),
                              message: "run \(run.id) was taken over by another rehearse process just now: nothing was run",
                              fix: "'rehearse show \(run.id)' says what it is doing")
        }
        var options = RehearsalOptions(runID: String(run.id), target: run.target, jobs: jobs, killGrace: killGrace,
                                       logsFolder: try logsFolder(for: run, in: history), stopStrayProcesses: false,
                                       processMark: run.processMark)
        options.live = true
        let (rehearsal, journal) = journaled(plan, options, run: run.id, history: history, observer: observer, control: control, warn: warn)
        return (rehearsal, journal, lock)
    }

    /// Records how a live run's later stage ended.
    private func close(_ run: Run, history: any HistoryStore) async throws(EngineError) -> Run {
        var run = run
        run.endedAt = Run.recordedTime(clock.date)
        run.total = .seconds(max(0, run.endedAt!.timeIntervalSince(run.startedAt)))
        do throws(HistoryError) {
            try await history.finishRun(run)
        } catch {
            throw .history(error)
        }
        return run
    }
}
