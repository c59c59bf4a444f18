public import Foundation
public import RehearseCore

/// One rehearsal of a plan against a target: setup, preflight, fingerprint, forward steps, smoke
/// checks, the rollback trigger, rollback steps, restored checks, fingerprint, teardown.
///
/// Everything a step does is data in the returned ``Run``; ``run(_:)`` never throws. Events go to
/// the observer as they happen, and the runner awaits each one (so a journal has a command's start
/// on record before the command runs). Signals reach the run through ``RunControl``: the first
/// stops the forward steps and rolls back what was applied, the second abandons the rollback.
///
/// What varies is injected: the ``CommandExecutor`` that runs commands (real processes by default)
/// and the ``RunClock`` that times them.
public struct Rehearsal: Sendable {
    public let plan: Plan
    public let options: RehearsalOptions
    public let observer: any RunObserver
    public let control: RunControl
    public let executor: any CommandExecutor
    public let clock: any RunClock

    public init(
        plan: Plan, options: RehearsalOptions, observer: any RunObserver, control: RunControl = RunControl(),
        executor: any CommandExecutor = StandardExecutor.make(), clock: any RunClock = SystemClock()
    ) {
        self.plan = plan
        self.options = options
        self.observer = observer
        self.control = control
        self.executor = executor
        self.clock = clock
    }

    /// The folder commands run in: the plan file's own.
    var workingDirectory: String {
        URL(fileURLWithPath: plan.file).deletingLastPathComponent().path
    }

    /// A run of this rehearsal that no history has numbered: for callers that record nothing.
    public func unrecordedRun() -> Run {
        Run(starting: plan, target: options.target, provenance: .current(toolVersion: "library"),
            cut: options.cut, jobs: options.jobs, startedAt: clock.date, processMark: options.processMark)
    }

    /// Runs the rehearsal and returns `begun` completed: its activities, trigger, timings,
    /// fingerprints and verdict.
    public func run(_ begun: Run? = nil) async -> Run {
        var run = begun ?? unrecordedRun()
        control.adopt(clock)
        let context = Context(rehearsal: self, origin: clock.now)
        await context.log.emit(.runStarted(run, plan: plan))
        let graph = plan.graph
        let target = plan.target(named: options.target)

        // With a window and a fingerprint: first the control, the old version with the window's
        // writes and nothing deployed, which the state after the rollback must equal.
        // (A cut comes before the window: its writes never run, and the copy must come back to
        // where it was.)
        var controlReasons: [RunReason] = []
        if !options.live, let window = plan.window, let fingerprint = plan.fingerprint, options.cut == nil, !control.shouldStop {
            (run.fingerprints.control, controlReasons) = await runControl(context, window: window, fingerprint: fingerprint)
        }

        // Before anything is applied: a failure here aborts with nothing to roll back.
        var ready = controlReasons.isEmpty
        // (A live target is not a copy: nothing makes it or removes it.)
        if ready, !options.live, let setup = target?.setup {
            ready = await context.stage(1) { await context.execute(Activity(.setup, options.target), setup) }.passed
        }
        for check in plan.checks.preflight where ready {
            ready = await context.stage(1) { await context.execute(Activity(.preflight, check.name), check.command) }.passed
        }
        var fingerprintBefore: FingerprintOutput?
        var probeReasons: [RunReason] = []
        if ready, let fingerprint = plan.fingerprint {
            let (record, value) = await context.stage(1) { await context.fingerprint(.fingerprintBefore, fingerprint.command) }
            fingerprintBefore = value
            ready = record.passed
            if let value { await context.log.emit(.fingerprintTaken(before: value)) }
            // Not from a copy an earlier broken rollback changed: it must be what that run found.
            if ready, let value, let expected = options.startingFrom {
                let compared = fingerprint.compare(before: expected.fingerprint, after: value)
                if compared.differs || compared.comparesNothing {
                    probeReasons.append(.copyChangedBefore(run: expected.run))
                    ready = false
                }
            }
            // (The probe changes data: never on a live target.)
            if ready, !options.live, let probe = fingerprint.probe, let before = value {
                probeReasons = await context.stage(1) { await context.runProbe(probe, fingerprint: fingerprint, before: before) }
                ready = probeReasons.isEmpty && !context.log.records.contains { !$0.passed }
            }
        }
        ready = ready && !control.shouldStop

        // Forward, trigger, rollback: once, or twice for a round trip (forward again after the
        // rollback, and roll back again), as long as the first went cleanly.
        var passReasons: [RunReason] = []
        var windowRan = false
        let passes = options.roundTrip ? 2 : 1
        for pass in 1...passes where ready {
            // The window's writes are made once: the second pass finds them there, and must keep them.
            let result = await runPass(context, graph: graph, fingerprintBefore: fingerprintBefore, control: run.fingerprints.control,
                                       window: pass == 1, windowRan: windowRan)
            windowRan = windowRan || result.windowRan
            if pass == 1 {
                run.trigger = result.trigger
                run.forward = result.forward
            } else if let trigger = result.trigger {
                run.trigger = trigger
            }
            run.leftApplied = result.leftApplied
            if let rollback = result.rollback { run.rollback = max(run.rollback ?? .zero, rollback) }
            if result.fingerprintAfter != nil { run.fingerprints.after = result.fingerprintAfter }
            passReasons += result.twiceProblems
            let clean = result.trigger?.reason == .rehearsal && result.leftApplied.isEmpty && !result.fingerprintDiffers
                && !context.log.records.contains { $0.status != .passed && $0.status != .nothingToRun }
            // (An interruption is not the rollback's fault.)
            if pass == 2, !clean, !control.shouldStop {
                passReasons.append(.roundTripFailed(how: result.trigger?.reason == .rehearsal
                    ? "the second rollback did not bring the copy back"
                    : "going forward again after the rollback failed (\(result.trigger?.description ?? "not started")): the rollback leaves something behind"))
            }
            // A round trip goes on only from a clean first pass (its fingerprint is the one shown).
            if !clean || control.shouldStop { break }
        }
        run.fingerprints.before = fingerprintBefore
        // The control stands only when the window's writes ran: otherwise the copy must come back
        // to where it was before.
        if !windowRan { run.fingerprints.control = nil }

        // Teardown, unless the rollback was abandoned: then the copy is left as it is, for `recover`.
        if let teardown = target?.teardown, !control.isAbandoned, !options.live {
            _ = await context.stage(2) { await context.execute(Activity(.teardown, options.target), teardown) }
        }
        run.strayProcesses = await stopStrayProcesses()
        // What the setup started belongs to the copy: it runs on (the teardown stops it), and the
        // run names what is left.
        if options.stopStrayProcesses, !options.live, target?.setup != nil || target?.teardown != nil {
            run.copyServices = await executor.releaseCopyServices(marked: options.copyMark)
        }

        run.activities = context.log.records
        // Compared once: the verdict and the files use the same diff.
        var comparison: FingerprintComparison?
        if !options.live, let before = run.fingerprints.control ?? run.fingerprints.before, let after = run.fingerprints.after {
            let compared = FingerprintComparison(before: before, after: after, settings: plan.fingerprint)
            if !compared.diff.isEmpty { context.writeFingerprintFiles(before: before, after: after, diff: compared.diff) }
            comparison = compared
        }
        let faultReasons = control.faultMessage.map { [RunReason.historyUnwritable($0)] } ?? []
        let changed = options.contentChanged?().map { RunReason.text("the plan's inputs changed while it ran (\($0)): the run stands for no version of the plan") }
        // Under --twice each rollback step runs twice, with fingerprints: that time says nothing
        // about the budget.
        let verdict = options.live
            ? Verdict.judgeLive(activities: run.activities, rolledBack: run.trigger != nil, rollback: run.rollback, budget: plan.budget.rollback,
                                leftApplied: run.leftApplied, interruptedBy: control.firstSignal, trigger: run.trigger,
                                also: (changed.map { [$0] } ?? []) + faultReasons)
            : Verdict.judge(
                activities: run.activities, rollback: options.twice ? nil : run.rollback, budget: plan.budget.rollback,
                fingerprintBefore: run.fingerprints.control ?? run.fingerprints.before, fingerprintAfter: run.fingerprints.after, leftApplied: run.leftApplied,
                interruptedBy: control.firstSignal, trigger: run.trigger, fingerprint: plan.fingerprint, comparison: comparison,
                also: controlReasons + probeReasons + passReasons + (changed.map { [$0] } ?? []) + faultReasons)
        run.status = verdict.status
        run.reasons = verdict.reasons
        run.total = context.offset
        run.endedAt = Run.recordedTime(clock.date)
        run.logsFolder = options.logsFolder
        await context.log.emit(.runFinished(run))
        // The verdict itself could not be recorded (or the run was taken over meanwhile): it stands
        // for nothing the history has, and no pass is claimed.
        run.claimNoPass(unrecorded: control.faultMessage)
        return run
    }
}

extension Rehearsal {
    /// One pass of forward steps, smoke checks, the trigger, rollback steps, restored checks and
    /// the fingerprint after.
    struct Pass {
        var trigger: RollbackTrigger?
        var forward: Duration?
        var rollback: Duration?
        var leftApplied: [String] = []
        var fingerprintAfter: FingerprintOutput?
        var fingerprintDiffers = false
        var twiceProblems: [RunReason] = []
        /// The window's writes ran in this pass.
        var windowRan = false
        /// False for a live run that stayed healthy: no trigger, no rollback.
        var rolledBack = true
    }

    /// A live run's watch: after each interval, the smoke checks again. The trigger when one
    /// fails (or a signal comes), nil when the new version stayed healthy throughout.
    func runWatch(_ context: Context, _ watch: RehearsalOptions.Watch) async -> RollbackTrigger? {
        let rounds = watch.rounds
        for round in 1...rounds {
            await context.stage(1) { await clock.sleep(for: watch.every) }
            if let interrupted = context.interruption() { return interrupted }
            for check in plan.checks.smoke {
                let activity = Activity(.smoke, "\(check.name) (watch \(round)/\(rounds))")
                let record = await context.stage(1) { await context.execute(activity, check.command) }
                if let interrupted = context.interruption() { return interrupted }
                if !record.passed { return RollbackTrigger(reason: .watchFailed(check: check.name), offset: context.offset) }
            }
        }
        return nil
    }

    /// - Parameter control: the control copy's fingerprint: the base to compare with once the
    ///   window's writes have run.
    /// - Parameters:
    ///   - window: make the window's writes in this pass (the first).
    ///   - windowRan: they were made in an earlier pass: kept checks and the control still apply.
    func runPass(
        _ context: Context, graph: StepGraph, fingerprintBefore: FingerprintOutput?, control controlFingerprint: FingerprintOutput? = nil,
        window makeWrites: Bool = true, windowRan earlier: Bool = false
    ) async -> Pass {
        var pass = Pass()
        // Forward steps, then smoke checks, until the trigger.
        let forward = await context.stage(1) { await context.runForward(graph) }
        pass.forward = forward.duration
        pass.twiceProblems = forward.twiceProblems
        var trigger = context.interruption() ?? forward.failure
        if trigger == nil {
            for check in plan.checks.smoke {
                let record = await context.stage(1) { await context.execute(Activity(.smoke, check.name), check.command) }
                trigger = context.interruption()
                if trigger == nil, !record.passed {
                    trigger = RollbackTrigger(reason: .smokeFailed(check: check.name), offset: context.offset)
                }
                if trigger != nil { break }
            }
        }
        // Live: the new version is watched; healthy to the end, it stays (nothing is rolled back).
        if options.live {
            if trigger == nil, let watch = options.watch { trigger = await runWatch(context, watch) }
            if trigger == nil {
                pass.rolledBack = false
                return pass
            }
        }
        // The window: the new version takes its writes before the rollback. A write that fails is
        // a failure of the go-live, like a smoke check's.
        var windowRan = earlier
        if trigger == nil, makeWrites, !options.live, let window = plan.window {
            var completed = 0
            defer {
                // The window counts as made only when every write went through: otherwise neither
                // the kept checks nor the control describe this copy.
                windowRan = completed == window.writes.count
                pass.windowRan = windowRan
            }
            for write in window.writes {
                let record = await context.stage(1) { await context.execute(Activity(.windowWrite, write.name), write.command) }
                trigger = context.interruption()
                if trigger == nil, !record.passed {
                    trigger = RollbackTrigger(reason: .smokeFailed(check: "window write: " + write.name), offset: context.offset)
                }
                if trigger != nil { break }
                completed += 1
            }
        }
        let theTrigger = trigger ?? RollbackTrigger(reason: .rehearsal, offset: context.offset)
        pass.trigger = theTrigger

        // The rollback, timed from the trigger.
        await context.log.emit(.rollbackTriggered(theTrigger))
        let applied = forward.applied
        let rollback = await context.stage(2) { await context.runRollback(graph, applied: applied) }
        pass.leftApplied = rollback.leftApplied
        pass.twiceProblems += rollback.twiceProblems
        for check in plan.checks.restored where !control.isAbandoned {
            _ = await context.stage(2) { await context.execute(Activity(.restored, check.name), check.command) }
        }
        // The window's writes survived the rollback (not timed as rollback: the old version is back).
        pass.rollback = context.offset - theTrigger.offset
        // (Only when they ran: a cut or an earlier failure comes before the window.)
        for check in windowRan ? plan.window?.kept ?? [] : [] where !control.isAbandoned {
            _ = await context.stage(2) { await context.execute(Activity(.kept, check.name), check.command) }
        }
        if let before = (windowRan ? controlFingerprint : nil) ?? fingerprintBefore, let fingerprint = plan.fingerprint, !control.isAbandoned {
            pass.fingerprintAfter = await context.stage(2) { await context.fingerprint(.fingerprintAfter, fingerprint.command) }.1
            if let after = pass.fingerprintAfter {
                let compared = fingerprint.compare(before: before, after: after)
                pass.fingerprintDiffers = compared.differs || compared.comparesNothing
            }
        }
        return pass
    }

    /// The control copy: the target's setup with `REHEARSE_COPY=control`, the window's writes
    /// against the old version, the fingerprint, the teardown. Its fingerprint, and what went
    /// wrong (without a control, the comparison cannot be made: the run fails).
    func runControl(_ main: Context, window: Window, fingerprint: Fingerprint) async -> (FingerprintOutput?, [RunReason]) {
        // `control`, or `control-N` beside copy N of several, so that controls side by side are apart too.
        let context = Context(rehearsal: self, origin: main.origin, copyName: options.copy.map { "control-\($0)" } ?? "control", log: main.log)
        let target = plan.target(named: options.target)
        var ready = true
        if let setup = target?.setup {
            ready = await context.stage(1) { await context.execute(Activity(.setup, options.target + " (control)"), setup) }.passed
        }
        for write in window.writes where ready {
            ready = await context.stage(1) { await context.execute(Activity(.windowWrite, write.name + " (control)"), write.command) }.passed
        }
        var value: FingerprintOutput?
        if ready {
            value = await context.stage(1) { await context.fingerprint(.fingerprintBefore, fingerprint.command, name: "fingerprint of the control") }.1
        }
        if let teardown = target?.teardown {
            _ = await context.stage(2) { await context.execute(Activity(.teardown, options.target + " (control)"), teardown) }
        }
        guard let value else {
            return (nil, [.text("the control copy (the old version with the window's writes) could not be made: nothing to compare the rollback with")])
        }
        await main.log.emit(.controlFingerprintTaken(value))
        return (value, [])
    }

    /// What `recover` achieved.
    public struct Recovery: Sendable {
        public var activities: [ActivityRecord]
        /// Steps still applied after it: their rollback failed, was blocked, or could not start.
        public var stillApplied: [String]
        /// The fingerprint after the rollback, when the plan has one and the run had taken it before.
        public var fingerprintAfter: FingerprintOutput?
        /// Why the copy cannot be shown to be back: a rollback that did not complete, a restored
        /// check that failed, a fingerprint that differs from the run's own before. Empty: verified.
        public var problems: [RunReason]
        /// From the start of the first rollback step to the end of the last restored check.
        public var rollback: Duration = .zero
        /// When the rollback began, on the run's time line.
        public var startOffset: Duration = .zero
    }

    /// Rolls back `applied` steps only, in reverse dependency order, as a rehearsal's rollback
    /// would, then verifies as a rehearsal does: the restored checks, and the fingerprint against
    /// `fingerprintBefore` (the run's own). What `recover` runs for an interrupted or killed run.
    /// Ids that are not steps of the plan are ignored.
    ///
    /// - Parameter startedAt: when the run began: the recovery's activities are timed on the
    ///   run's own time line (their offsets go on from the run's start).
    /// - Parameter keptChecks: the window's writes ran: its kept checks verify too.
    /// - Parameter undoProbe: the fingerprint's probe changed the copy and was not undone (the
    ///   harness died in between): its undo runs first.
    /// - Parameter recordFingerprint: take the fingerprint after the rollback even without one to
    ///   compare it with (a live run keeps it as a record).
    /// - Parameter interrupted: commands that were running when the harness died: their steps'
    ///   stop hooks run first (`REHEARSE_STOP_REASON=harness-died`), to cancel what they may still
    ///   have a server doing before anything is rolled back.
    public func rollBack(
        applied: [String], startedAt: Date? = nil, fingerprintBefore: FingerprintOutput? = nil, keptChecks: Bool = false, undoProbe: Bool = false,
        recordFingerprint: Bool = false, interrupted: [Activity] = []
    ) async -> Recovery {
        control.adopt(clock)
        let elapsed = startedAt.map { Duration.seconds(max(0, clock.date.timeIntervalSince($0))) } ?? .zero
        let context = Context(rehearsal: self, origin: clock.now - elapsed)
        let graph = plan.graph
        for activity in interrupted where activity.kind.isStep {
            guard let stop = plan.step(withID: activity.name)?.stop else { continue }
            await context.stage(2) { await context.runStopHook(stop, stopping: activity, reason: "harness-died") }
        }
        if undoProbe, let undo = plan.fingerprint?.probe?.undo {
            _ = await context.stage(2) { await context.execute(Activity(.preflight, "fingerprint probe undo"), undo) }
        }
        let indices = Set(applied.compactMap(graph.index(of:)))
        let rollbackStart = context.offset
        let result = await context.stage(2) { await context.runRollback(graph, applied: indices) }
        for check in plan.checks.restored where !control.isAbandoned {
            _ = await context.stage(2) { await context.execute(Activity(.restored, check.name), check.command) }
        }
        let rollbackTime = context.offset - rollbackStart
        for check in keptChecks ? plan.window?.kept ?? [] : [] where !control.isAbandoned {
            _ = await context.stage(2) { await context.execute(Activity(.kept, check.name), check.command) }
        }
        var fingerprintAfter: FingerprintOutput?
        var comparison: FingerprintComparison?
        if recordFingerprint, fingerprintBefore == nil, let fingerprint = plan.fingerprint, !control.isAbandoned {
            fingerprintAfter = await context.stage(2) {
                await context.fingerprint(.fingerprintAfter, fingerprint.command, name: "fingerprint after the rollback")
            }.1
        } else if let fingerprint = plan.fingerprint, let before = fingerprintBefore, !control.isAbandoned {
            fingerprintAfter = await context.stage(2) {
                await context.fingerprint(.fingerprintAfter, fingerprint.command, name: "fingerprint after recovery")
            }.1
            if let after = fingerprintAfter, after != before {
                let compared = FingerprintComparison(before: before, after: after, settings: fingerprint)
                context.writeFingerprintFiles(before: before, after: after, diff: compared.diff, prefix: "recovery-")
                comparison = compared
            }
        }
        _ = await stopStrayProcesses()
        let records = context.log.records
        let verdict = Verdict.judge(
            activities: records, rollback: nil, budget: plan.budget.rollback, fingerprintBefore: fingerprintBefore,
            fingerprintAfter: fingerprintAfter, leftApplied: result.leftApplied, interruptedBy: control.firstSignal,
            fingerprint: plan.fingerprint, comparison: comparison, also: control.faultMessage.map { [.historyUnwritable($0)] } ?? [])
        return Recovery(activities: records, stillApplied: result.leftApplied, fingerprintAfter: fingerprintAfter, problems: verdict.reasons,
                        rollback: rollbackTime, startOffset: rollbackStart)
    }

    /// What `go --finish` achieved: the irreversible steps and the smoke checks after them.
    public struct Finish: Sendable {
        public var activities: [ActivityRecord]
        /// What failed (a step, a smoke check) or stopped it. Empty: the go-live is complete.
        public var problems: [RunReason]
    }

    /// A live run past its point of no return: runs the steps beyond it (the irreversible ones
    /// and what needs them) one at a time in dependency order, stopping at the first that fails,
    /// then the smoke checks once more. Nothing here is rolled back: these steps have no undo.
    ///
    /// - Parameter startedAt: when the live run began: the activities go on its time line.
    public func finishLive(startedAt: Date? = nil) async -> Finish {
        control.adopt(clock)
        let elapsed = startedAt.map { Duration.seconds(max(0, clock.date.timeIntervalSince($0))) } ?? .zero
        let context = Context(rehearsal: self, origin: clock.now - elapsed)
        let graph = plan.graph
        var healthy = true
        for index in graph.forwardOrder(of: graph.beyondPointOfNoReturn()) {
            let step = graph.steps[index]
            guard healthy, !control.shouldStop else {
                // Never started: recorded so that the run shows what did not happen.
                await context.log.activityFinished(ActivityRecord(Activity(.forward, step.id), status: .stopped))
                continue
            }
            healthy = await context.stage(1) {
                await context.execute(Activity(.forward, step.id), script: step.run, timeout: plan.timeout(for: step), stop: step.stop)
            }.passed
        }
        for check in plan.checks.smoke where healthy && !control.shouldStop {
            healthy = await context.stage(1) { await context.execute(Activity(.smoke, check.name + " (after finish)"), check.command) }.passed
        }
        let records = context.log.records
        let verdict = Verdict.judge(activities: records, rollback: nil, budget: plan.budget.rollback, fingerprintBefore: nil,
                                    fingerprintAfter: nil, leftApplied: [], interruptedBy: control.firstSignal,
                                    also: control.faultMessage.map { [.historyUnwritable($0)] } ?? [])
        return Finish(activities: records, problems: verdict.reasons)
    }

    /// Stops what this run's commands left running outside their process groups, and returns
    /// their command lines. Waits for at most the grace period, and only when there are some.
    func stopStrayProcesses() async -> [String] {
        guard options.stopStrayProcesses else { return [] }
        return await executor.stopLeftovers(marked: options.processMark, grace: min(options.killGrace, .seconds(2)))
    }
}

extension ActivityRecord {
    var passed: Bool { status == .passed }
}

extension RunProvenance {
    /// This process: its host, user (`$USER`, else the account's name) and pid.
    public static func current(toolVersion: String, gitCommit: String? = nil) -> RunProvenance {
        let info = ProcessInfo.processInfo
        return RunProvenance(host: info.hostName, user: info.environment["USER"] ?? info.userName,
                             pid: info.processIdentifier, toolVersion: toolVersion, gitCommit: gitCommit)
    }
}
