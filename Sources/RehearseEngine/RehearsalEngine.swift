import Foundation
public import RehearseCore
public import RehearseRunner
public import RehearseStore

/// Rehearses plans and recovers runs as library calls: checks the request against the plans,
/// records each run in a history as it happens (the journal), lays out its logs, runs it, stops
/// what its steps left running, and returns the recorded ``Run``.
///
/// ```swift
/// let plan = try PlanFile.load("Rehearsals/checkout.yml").plan!
/// let (history, _) = try await HistoryAccess.open(".rehearse/history.sqlite")
/// let engine = RehearsalEngine()
/// let runs = try await engine.rehearse([(plan, history)], RehearsalRequest(target: "copy"))
/// print(runs[0].status)   // passed, over-budget, failed, interrupted
/// ```
///
/// What varies is injected: the ``CommandExecutor`` (real processes by default) and the
/// ``RunClock``.
public struct RehearsalEngine: Sendable {
    public static let version = "0.3.0"

    public var executor: any CommandExecutor
    public var clock: any RunClock
    /// Recorded with every run.
    public var toolVersion: String

    public init(executor: any CommandExecutor = StandardExecutor.make(), clock: any RunClock = SystemClock(),
                toolVersion: String = RehearsalEngine.version) {
        self.executor = executor
        self.clock = clock
        self.toolVersion = toolVersion
    }

    /// Everything that keeps `request` from running on `plans`: an unknown or unapproved target,
    /// a cut that names no step or a step beyond the point of no return, several copies that
    /// nothing keeps apart. Empty when it may run.
    public func problems(_ plans: [Plan], _ request: RehearsalRequest, copies: Int = 1) -> [RunProblem] {
        var problems: [RunProblem] = []
        for plan in plans {
            guard let target = plan.target(named: request.target) else {
                problems.append(.noSuchTarget(plan: plan.name, file: plan.file, target: request.target, available: plan.targets.map(\.name)))
                continue
            }
            if target.isProtected, request.approve != target.name {
                problems.append(.protectedTarget(plan: plan.name, target: target.name))
            }
            if copies > 1, !Self.usesCopyNumber(plan, target: target) {
                problems.append(.copiesNotKeptApart(plan: plan.name, target: target.name, copies: copies))
            }
            // The window's control copy is made by the target's setup, in a place of its own.
            if plan.window != nil, plan.fingerprint != nil, request.cut == nil,
               target.setup == nil || !(target.environment.map(\.value) + [target.setup?.run ?? ""]).contains(where: { $0.contains("REHEARSE_COPY") }) {
                problems.append(.controlNotKeptApart(plan: plan.name, target: target.name))
            }
        }
        if let cut = request.cut {
            let withStep = plans.filter { $0.step(withID: cut.step) != nil }
            if withStep.isEmpty { problems.append(.noStepForCut(cut)) }
            for plan in withStep {
                if let index = plan.graph.index(of: cut.step), plan.graph.beyondPointOfNoReturn().contains(index) {
                    problems.append(.cutBeyondPointOfNoReturn(plan: plan.name, cut))
                }
            }
        }
        return problems
    }

    /// Whether anything of the target (env values, setup, teardown) or any command of the plan
    /// refers to `REHEARSE_COPY`: how copies side by side are kept apart.
    static func usesCopyNumber(_ plan: Plan, target: Target) -> Bool {
        var texts = target.environment.map(\.value) + [target.setup?.run, target.teardown?.run, plan.fingerprint?.run].compactMap { $0 }
        texts += plan.steps.flatMap { [$0.run, $0.rollbackCommand].compactMap { $0 } }
        texts += (plan.checks.preflight + plan.checks.smoke + plan.checks.restored).map(\.command.run)
        return texts.contains { $0.contains("REHEARSE_COPY") }
    }

    /// What a series of rehearsals came to: the runs that ran, and the fault that stopped the
    /// series early, if one did (the runs before it stand, and are in their histories).
    public struct Series: Sendable {
        public var runs: [Run]
        public var fault: EngineError?

        public init(runs: [Run] = [], fault: EngineError? = nil) {
            self.runs = runs
            self.fault = fault
        }
    }

    /// Rehearses each plan in turn, each recorded in its history. An interrupted run ends the
    /// series; so does a fault (a run that cannot be recorded never starts).
    ///
    /// - Parameters:
    ///   - observer: sees every event of every run as it happens (progress output).
    ///   - control: signals reach the runs through it.
    ///   - warn: told once per run when its journal cannot be written (the rehearsal goes on).
    public func rehearse(
        _ plans: [(plan: Plan, history: any HistoryStore)], _ request: RehearsalRequest,
        observer: any RunObserver = ObserverGroup([]), control: RunControl = RunControl(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async -> Series {
        var series = Series(runs: [], fault: nil)
        for (plan, history) in plans {
            do throws(EngineError) {
                let run = try await rehearse(plan, request, history: history, observer: observer, control: control, warn: warn)
                series.runs.append(run)
                if run.status == .interrupted || run.hasHarnessFault { break }
            } catch {
                series.fault = error
                break
            }
        }
        return series
    }

    /// Rehearses one plan, recorded in `history`.
    ///
    /// - Throws: ``EngineError``: ``EngineError/Code/refused(_:)`` (an unknown or unapproved
    ///   target, a cut the plan cannot take: nothing ran) or a history or file fault.
    public func rehearse(
        _ plan: Plan, _ request: RehearsalRequest, history: any HistoryStore,
        observer: any RunObserver = ObserverGroup([]), control: RunControl = RunControl(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(EngineError) -> Run {
        if let refusal = refusal(plan, request) { throw refusal }
        return try await rehearseOne(plan, request, cut: cut(of: request, in: plan), group: nil, copy: nil,
                                     content: try content(of: plan), history: history, observer: observer, control: control, warn: warn)
    }

    /// Why `request` cannot run on `plan` alone, as the error a refused rehearsal raises; nil when
    /// it may. A cut naming no step of this plan is fine here: another plan of a series may have
    /// it (``problems(_:_:copies:)`` checks that across the series).
    func refusal(_ plan: Plan, _ request: RehearsalRequest, copies: Int = 1) -> EngineError? {
        let problems = problems([plan], request, copies: copies).filter {
            if case .noStepForCut = $0 { return false }
            return true
        }
        guard !problems.isEmpty else { return nil }
        return EngineError(.refused(problems), message: problems.map(\.description).joined(separator: "; ") + ": nothing was run",
                           fix: problems.first?.fix)
    }

    /// The request's cut, when `plan` has its step.
    func cut(of request: RehearsalRequest, in plan: Plan) -> Cut? {
        request.cut.flatMap { plan.step(withID: $0.step) != nil ? $0 : nil }
    }

    /// The plan's content hash (its text and its inputs' contents) as the history records it.
    func content(of plan: Plan) throws(EngineError) -> PlanContent {
        do throws(PlanContent.UnreadableInput) {
            return try PlanContent.of(plan)
        } catch {
            throw EngineError(.files, message: "\(error): nothing was run",
                              fix: "check that it exists and is readable, or change the plan's 'inputs'")
        }
    }

    /// One recorded rehearsal of `plan` with this cut, in this group, on this copy.
    func rehearseOne(
        _ plan: Plan, _ request: RehearsalRequest, cut: Cut?, group: RunGroup?, copy: Int?, content: PlanContent,
        history: any HistoryStore, observer: any RunObserver, control: RunControl, warn: @escaping @Sendable (String) -> Void,
        live: LiveRun? = nil
    ) async throws(EngineError) -> Run {
        let mark = UUID().uuidString
        var run = Run(starting: plan, target: request.target, planHash: content.hash,
                      provenance: .current(toolVersion: toolVersion, gitCommit: GitCommit.current(for: plan.file)),
                      cut: cut, group: group, copy: copy, inputHashes: content.inputs, jobs: request.jobs, startedAt: clock.date,
                      processMark: mark)
        run.modes = (request.roundTrip ? ["round-trip"] : []) + (request.twice ? ["twice"] : [])
            + (request.copyRestored ? ["copy-restored"] : [])   // (the operator's word, kept with the run)
        if let live {
            run.kind = .live
            run.approval = live.approval
            run.evidence = live.evidence
            run.evidenceRun = live.evidenceRun
        }
        // A logs folder that cannot be made is found before the run is recorded: no run is left behind.
        try logsParent(in: history)
        // One run per target and copy at a time, held to its end (before it is recorded: a run
        // that waits, or gives up, leaves nothing behind).
        let lock = try await lockTarget(request.target, copy: copy, plan: plan.name, history: history, wait: request.wait)
        defer { lock.release() }
        // Never from a copy an earlier run left changed (found under the lock: nothing ends on it meanwhile).
        try await checkCopy(plan, target: request.target, copy: copy ?? 1, live: live != nil, history: history, warn: warn)
        let startingFrom = try await startingFingerprint(plan, request, copy: copy ?? 1, live: live != nil, history: history)
        do throws(HistoryError) {
            run = try await history.beginRun(run)
        } catch {
            throw .history(error)
        }
        lock.record(TargetHolder(run: run.id, plan: plan.name, host: run.host, pid: run.pid, since: run.startedAt))
        let logs: String
        do throws(EngineError) {
            logs = try logsFolder(for: run, in: history)
            do throws(HistoryError) {
                try await history.recordLogsFolder(run: run.id, logs)
            } catch {
                throw .history(error)
            }
        } catch {
            // Nothing ran: the run is closed as failed rather than left running.
            var closed = run
            closed.status = .failed
            closed.endedAt = Run.recordedTime(clock.date)
            closed.reasons = [.text(error.message)]
            try? await history.finishRun(closed)
            throw error
        }
        let options = RehearsalOptions(
            runID: String(run.id), target: request.target, jobs: request.jobs, cut: cut, copy: copy, killGrace: request.killGrace,
            logsFolder: logs, liveOutput: request.liveOutput, stopStrayProcesses: request.stopStrayProcesses, processMark: mark,
            contentChanged: { Self.inputChanges(plan, since: content) })
        var configured = options
        configured.roundTrip = request.roundTrip
        configured.twice = request.twice
        configured.logLimit = request.logLimit
        configured.startingFrom = startingFrom
        if let live {
            configured.live = true
            configured.watch = live.watch
            // What a live run's steps start is the go-live itself: it stays running.
            configured.stopStrayProcesses = false
        }
        let (rehearsal, _) = journaled(plan, configured, run: run.id, history: history, observer: observer, control: control, warn: warn)
        return await rehearsal.run(run)
    }

    /// The lock of `target`'s copy (1 unless `--copies` numbered it), waiting up to `wait`.
    func lockTarget(
        _ target: String, copy: Int?, plan: String, run: Int64? = nil, history: any HistoryStore, wait: Duration
    ) async throws(EngineError) -> any TargetLease {
        let me = RunProvenance.current(toolVersion: toolVersion)
        let holder = TargetHolder(run: run, plan: plan, host: me.host, pid: me.pid, since: Run.recordedTime(clock.date))
        do throws(TargetLock.Failure) {
            return try await history.lockTarget(target, copy: copy ?? 1, holder: holder, wait: wait)
        } catch {
            switch error {
            case .busy:
                throw EngineError(.busy(error), message: "\(error): nothing was run",
                                  fix: "wait for it to end, or let this one wait for it: --wait 10m")
            case .unusable:
                throw EngineError(.files, message: "\(error): nothing was run (without the lock, two runs could change one copy at once)",
                                  fix: history.location == history.localFolder || !history.location.contains("://")
                                      ? "check the folder beside the history (it must be a folder you can write), or use --history PATH"
                                      : "check the history's server and the network, then run again")
            }
        }
    }

    /// What changed in the plan's inputs since `content` was taken, or nil when nothing did: a
    /// run stands for the content it began with only if that did not change while it ran (a
    /// migration edited mid-run, then put back, must not let the gate say go).
    static func inputChanges(_ plan: Plan, since content: PlanContent) -> String? {
        guard !plan.inputs.isEmpty else { return nil }
        let after = try? PlanContent.of(plan)
        guard after?.hash != content.hash else { return nil }
        return after.map { InputChanges.between(content.inputs, $0.inputs).summary } ?? "an input can no longer be read"
    }

    /// Rehearses one plan `times` times in a row, recorded as one group: the gate judges them
    /// together (one over budget and the group does not pass). An interrupted run or a fault ends
    /// the series.
    public func rehearseRepeatedly(
        _ plan: Plan, times: Int, _ request: RehearsalRequest, history: any HistoryStore,
        observer: any RunObserver = ObserverGroup([]), control: RunControl = RunControl(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async -> Series {
        var series = Series()
        if let refusal = refusal(plan, request) {
            series.fault = refusal
            return series
        }
        let group = RunGroup(id: UUID().uuidString.lowercased(), size: times, kind: .repeat)
        let cut = cut(of: request, in: plan)
        for _ in 0..<times where !control.shouldStop {
            do throws(EngineError) {
                let run = try await rehearseOne(plan, request, cut: cut, group: group, copy: nil, content: try content(of: plan),
                                                history: history, observer: observer, control: control, warn: warn)
                series.runs.append(run)
                if run.status == .interrupted { break }
            } catch {
                series.fault = error
                break
            }
        }
        return series
    }

    /// A rehearsal of `plan` whose events go to the journal of run `run` first, then to `observer`.
    func journaled(
        _ plan: Plan, _ options: RehearsalOptions, run: Int64, history: any HistoryStore, observer: any RunObserver,
        control: RunControl, warn: @escaping @Sendable (String) -> Void
    ) -> (Rehearsal, JournalRecorder) {
        let journal = JournalRecorder(store: history, runID: run, control: control, next: observer, live: options.live, warn: warn)
        let rehearsal = Rehearsal(plan: plan, options: options, observer: journal,
                                  control: control, executor: executor, clock: clock)
        return (rehearsal, journal)
    }

    /// The run's logs folder: the one it has (a later recovery, `go --finish`, `rollback` of it),
    /// or a new `logs/RUN-TOKEN` beside the history's database, named by the run's unique token
    /// (run numbers start again in a new history; the logs of an older run are never written
    /// into). The run's own folder is created owner-only, exclusively: not one that was there
    /// before, and never through a symbolic link.
    func logsFolder(for run: Run, in history: any HistoryStore) throws(EngineError) -> String {
        if let existing = run.logsFolder, Self.isOwnFolder(existing) { return existing }
        let parent = try logsParent(in: history)
        let name = "\(run.id)-" + (run.processMark ?? UUID().uuidString).lowercased().prefix(8)
        let folder = URL(fileURLWithPath: parent).appendingPathComponent(name)
        func failure(_ why: String) -> EngineError {
            EngineError(.files, message: "cannot create the log folder \(folder.path): \(why); nothing was run",
                        fix: "check \(parent) (it must be a folder you can write), or use --history PATH")
        }
        guard mkdir(folder.path, 0o700) == 0 else { throw failure(String(cString: strerror(errno))) }
        return folder.path
    }

    /// `logs/` beside the history's database, made owner-only when missing; an error when it is
    /// something else than a folder or cannot be made.
    @discardableResult
    func logsParent(in history: any HistoryStore) throws(EngineError) -> String {
        let parent = URL(fileURLWithPath: history.localFolder).appendingPathComponent("logs").path
        func failure(_ why: String) -> EngineError {
            EngineError(.files, message: "cannot keep logs in \(parent): \(why); nothing was run",
                        fix: "move it aside (it must be a folder you can write), or use --history PATH")
        }
        // A shared database's runs keep their logs in the project's .rehearse/, made when missing.
        if mkdir(history.localFolder, 0o700) != 0, errno != EEXIST { throw failure(String(cString: strerror(errno))) }
        var info = stat()
        if lstat(parent, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw failure("it is not a folder") }
            guard access(parent, W_OK | X_OK) == 0 else { throw failure(String(cString: strerror(errno))) }
        } else if mkdir(parent, 0o700) != 0, errno != EEXIST {
            throw failure(String(cString: strerror(errno)))
        }
        return parent
    }

    /// A real folder (not a link) of this user's: where a run's logs already are.
    static func isOwnFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && info.st_uid == getuid()
    }
}
