import Foundation
import RehearseCore

extension Rehearsal {
    /// What every stage of one run shares: the clock origin, the activity log, and the environment
    /// handed to commands.
    struct Context: Sendable {
        let rehearsal: Rehearsal
        let origin: Duration
        let log: ActivityLog
        let environment: [String: String]
        /// The plan file's folder, where commands run.
        let workingDirectory: String
        /// What stopped the forward steps, once a step's failure or the cut did (`step-failed`,
        /// `cut`): the `REHEARSE_STOP_REASON` of the steps stopped for it.
        let triggerCause = Locked<String?>(nil)
        /// The environment of the target's setup and teardown: the copy's token instead of the run's.
        let copyEnvironment: [String: String]

        /// - Parameter copyName: the copy its commands work on (`REHEARSE_COPY`): the run's own by
        ///   default, `control` for a window's control copy.
        init(rehearsal: Rehearsal, origin: Duration, copyName: String? = nil, log: ActivityLog? = nil) {
            self.rehearsal = rehearsal
            workingDirectory = rehearsal.workingDirectory
            self.origin = origin
            let options = rehearsal.options
            self.log = log ?? ActivityLog(observer: rehearsal.observer, logsFolder: options.logsFolder)
            var environment: [String: String] = [:]
            let copy = copyName ?? String(options.copy ?? 1)
            for variable in rehearsal.plan.target(named: options.target)?.environment ?? [] {
                // A target's values may place each copy apart: `../.rehearse/copy-$REHEARSE_COPY`.
                environment[variable.name] = TargetEnvironment.expand(variable.value, ["REHEARSE_COPY": copy, "REHEARSE_RUN_ID": options.runID])
            }
            environment["REHEARSE_COPY"] = copy
            environment["REHEARSE_RUN_ID"] = options.runID
            environment["REHEARSE_RUN_TOKEN"] = options.processMark
            environment["REHEARSE_TARGET"] = options.target
            environment["REHEARSE_PLAN"] = rehearsal.plan.name
            self.environment = environment
            copyEnvironment = environment.merging(["REHEARSE_RUN_TOKEN": options.copyMark]) { _, copy in copy }
        }

        var plan: Plan { rehearsal.plan }

        /// Now, from the start of the run.
        var offset: Duration { rehearsal.clock.now - origin }

        /// The trigger an interruption made, if a signal has arrived.
        func interruption() -> RollbackTrigger? {
            let control = rehearsal.control
            if control.firstSignal == nil, control.faultMessage != nil {
                return RollbackTrigger(reason: .historyUnwritable, offset: control.faultReading.map { $0 - origin } ?? offset)
            }
            guard let signal = control.firstSignal else { return nil }
            let at = control.firstSignalReading.map { $0 - origin } ?? offset
            return RollbackTrigger(reason: .interrupted(signal: signal), offset: at)
        }

        /// Runs a stage that the `threshold`-th signal cancels (1: forward side, 2: rollback side).
        func stage<T: Sendable>(_ threshold: Int, _ body: @escaping @Sendable () async -> T) async -> T {
            await rehearsal.control.cancellable(afterSignals: threshold, body)
        }

        /// Runs one command of the plan and records it. A cancelled stage starts nothing (the
        /// activity is `stopped`, or `abandoned` for a rollback).
        func execute(_ activity: Activity, _ command: Command) async -> ActivityRecord {
            await execute(activity, script: command.run, timeout: command.timeout ?? plan.budget.stepTimeout)
        }

        /// - Parameters:
        ///   - stop: the step's `stop:` hook, run before the command is stopped (``runStopHook``).
        ///   - timedOut: told the moment the command runs past its timeout (before it is stopped).
        ///   - extraEnvironment: set last (a stop hook's phase and reason).
        func execute(
            _ activity: Activity, script: String, timeout: Duration, captureFile: String? = nil, stop: String? = nil,
            timedOut: (@Sendable () -> Void)? = nil, extraEnvironment: [String: String] = [:], killGrace: Duration? = nil
        ) async -> ActivityRecord {
            if Task.isCancelled {
                return ActivityRecord(activity, status: activity.kind == .rollback ? .abandoned : .stopped)
            }
            let ofTheCopy = activity.kind == .setup || activity.kind == .teardown
            var environment = ofTheCopy ? copyEnvironment : self.environment
            environment["REHEARSE_PHASE"] = activity.kind.environmentPhase
            if activity.kind.isStep {
                environment["REHEARSE_STEP"] = activity.name
            } else if activity.kind.isCheck {
                environment["REHEARSE_CHECK"] = activity.name
            }
            environment.merge(extraEnvironment) { _, extra in extra }
            let options = rehearsal.options
            let live = options.liveOutput.map { live in { @Sendable (line: String) in live(activity, line) } }
            let command = ShellCommand(
                activity: activity, script: script, workingDirectory: workingDirectory,
                environment: environment, timeout: timeout, killGrace: killGrace ?? options.killGrace,
                logFile: log.logFile(for: activity), captureFile: captureFile, liveOutput: live, logLimit: options.logLimit)
            var contained = command
            if options.stopStrayProcesses { contained.cgroupToken = ofTheCopy ? options.copyMark : options.processMark }
            // What the setup leaves running in its group (`server &`) is the copy's: not killed when it returns.
            contained.keepsWhatItLeaves = ofTheCopy
            if stop != nil || timedOut != nil {
                contained.onStop = { cause in
                    if cause == .timeout { timedOut?() }
                    // (A second Ctrl-C stops the hook too: the operator wants out now.)
                    if let stop { await stage(2) { await runStopHook(stop, stopping: activity, reason: stopReason(cause)) } }
                }
            }
            // The journal has the start before the command runs; the command's own time is
            // measured around the executor alone.
            await log.activityStarted(activity, offset: offset)
            let start = offset
            if Task.isCancelled {
                // The trigger or a signal came while the start was being recorded: it never runs.
                let record = ActivityRecord(activity, status: activity.kind == .rollback ? .abandoned : .stopped, startOffset: start)
                await log.activityFinished(record)
                return record
            }
            let outcome = await rehearsal.executor.run(contained)
            let record = ActivityRecord(activity, outcome: outcome, startOffset: start, duration: offset - start)
            await log.activityFinished(record)
            return record
        }

        /// A step's `stop:` hook, for its command that must stop now: recorded as `stop STEP`, with
        /// the command's environment plus `REHEARSE_STOP_REASON`, given the kill grace (then it is
        /// stopped itself, SIGKILL a second later at most).
        func runStopHook(_ script: String, stopping activity: Activity, reason: String) async {
            // (At least a second: `--kill-grace 0` stops commands at once, not their hooks.)
            let grace = max(rehearsal.options.killGrace, Self.shortestStopHookTime)
            _ = await execute(
                Activity(.stop, activity.name), script: script, timeout: grace,
                extraEnvironment: ["REHEARSE_PHASE": activity.kind.environmentPhase, "REHEARSE_STEP": activity.name,
                                   "REHEARSE_STOP_REASON": reason],
                killGrace: min(grace, .seconds(1)))
        }

        /// The least time a stop hook gets, whatever the kill grace.
        static let shortestStopHookTime: Duration = .seconds(1)

        /// `timeout`, `interrupted` (a signal), `harness-fault` (the history could not be
        /// written), `step-failed` (another step failed: the rollback trigger) or `cut`. (`recover`
        /// gives `harness-died` to the hooks of steps a killed harness left running.)
        func stopReason(_ cause: ShellCommand.StopCause) -> String {
            if cause == .timeout { return "timeout" }
            let control = rehearsal.control
            if control.firstSignal != nil { return "interrupted" }
            if control.faultMessage != nil { return "harness-fault" }
            return triggerCause.value ?? (rehearsal.options.cut != nil ? "cut" : "step-failed")
        }

        /// Runs the fingerprint command; its standard output is the value.
        func fingerprint(_ kind: Activity.Kind, _ command: Command, name: String = "fingerprint") async -> (ActivityRecord, FingerprintOutput?) {
            let activity = Activity(kind, name)
            let capture = log.logFile(for: activity, suffix: "out")
            let record = await execute(activity, script: command.run, timeout: command.timeout ?? plan.budget.stepTimeout,
                                       captureFile: capture)
            guard record.passed else { return (record, nil) }
            // Byte for byte (text that is not UTF-8 must not turn into the same replacement
            // characters), and bounded: the whole output stays in the capture file.
            return (record, FingerprintReader.read(capture, settings: plan.fingerprint))
        }

        /// The probe: change the copy a little, see the fingerprint change, undo it, see it come
        /// back. What went wrong, as reasons (a failing command is in the activities already).
        func runProbe(_ probe: Fingerprint.Probe, fingerprint: Fingerprint, before: FingerprintOutput) async -> [RunReason] {
            let change = await execute(Activity(.preflight, "fingerprint probe"), probe.run)
            guard change.passed else {
                // Whatever it changed, try to take it back.
                _ = await execute(Activity(.preflight, "fingerprint probe undo"), probe.undo)
                return []
            }
            let (seen, withProbe) = await self.fingerprint(.fingerprintBefore, fingerprint.command, name: "fingerprint with probe")
            var reasons: [RunReason] = []
            if seen.passed, let withProbe {
                let compared = fingerprint.compare(before: before, after: withProbe)
                if !compared.differs || compared.comparesNothing { reasons.append(.fingerprintBlind) }
            }
            let undo = await execute(Activity(.preflight, "fingerprint probe undo"), probe.undo)
            guard undo.passed, seen.passed else { return reasons }
            let (back, afterUndo) = await self.fingerprint(.fingerprintBefore, fingerprint.command, name: "fingerprint after probe undo")
            if back.passed, let afterUndo, fingerprint.compare(before: before, after: afterUndo).differs {
                reasons.append(.probeNotUndone)
            }
            return reasons
        }

        /// When the fingerprints differ: both (as kept: whole, or their first lines), and their
        /// diff, as files in the run's logs folder.
        func writeFingerprintFiles(before: FingerprintOutput, after: FingerprintOutput, diff: LineDiff, prefix: String = "") {
            let folder = rehearsal.options.logsFolder + "/" + prefix
            CommandOutput.writeNew(folder + "fingerprint-before.txt", before.text)
            CommandOutput.writeNew(folder + "fingerprint-after.txt", after.text)
            CommandOutput.writeNew(folder + "fingerprint.diff",
                                   diff.unified(beforeName: "fingerprint before the rehearsal", afterName: "fingerprint after the rollback"))
        }

        // MARK: - Forward

        struct ForwardResult: Sendable {
            var applied: Set<Int>
            var failure: RollbackTrigger?
            var duration: Duration?
            var twiceProblems: [RunReason] = []
        }

        /// `--twice`: runs a step's command a second time right after a first run that passed,
        /// with the fingerprint taken after each (when the plan has one): the second run must
        /// pass and leave the same fingerprint. Returns the second run's record (or the first's
        /// when it failed) and what was wrong.
        func runTwice(
            _ activity: Activity, script: String, timeout: Duration, stop: String?, timedOut: (@Sendable () -> Void)? = nil
        ) async -> (ActivityRecord, RunReason?) {
            let first = await execute(activity, script: script, timeout: timeout, stop: stop, timedOut: timedOut)
            guard rehearsal.options.twice, first.passed, !Task.isCancelled else { return (first, nil) }
            let fingerprint = plan.fingerprint
            let label = "\(activity.kind.rawValue) \(activity.name)"
            let once = fingerprint == nil ? nil : await self.fingerprint(.fingerprintAfter, fingerprint!.command, name: "fingerprint after \(label)").1
            let second = await execute(activity, script: script, timeout: timeout, stop: stop, timedOut: timedOut)
            guard second.passed else {
                return (second, .notSafeTwice(phase: activity.kind, step: activity.name, how: "the second run failed (\(second.summary))"))
            }
            if let fingerprint, let once {
                let again = await self.fingerprint(.fingerprintAfter, fingerprint.command, name: "fingerprint after \(label) again").1
                if let again, fingerprint.compare(before: once, after: again).differs {
                    return (second, .notSafeTwice(phase: activity.kind, step: activity.name, how: "the second run changed the fingerprint"))
                }
            }
            return (second, nil)
        }

        func runForward(_ graph: StepGraph) async -> ForwardResult {
            let rehearsable = graph.rehearsable()
            let cut = rehearsal.options.cut
            let failAt = cut?.kind == .failAt ? cut.flatMap { graph.index(of: $0.step) } : nil
            let cutBefore = cut?.kind == .before ? cut.flatMap { graph.index(of: $0.step) } : nil
            var waitsFor: [Int: [Int]] = [:]
            for node in rehearsable { waitsFor[node] = graph.needs[node] }
            let ran = Locked<[Int: ActivityRecord]>([:])
            let problems = Locked<[RunReason]>([])
            let appliedOnce = Locked<Set<Int>>([])
            // A step past its timeout is failing from that moment: nothing more starts while it is
            // being stopped (its stop hook, the kill grace), and the trigger is then.
            let timedOut = Locked<(step: Int, reading: Duration)?>(nil)
            // Twice: one step at a time, so that each fingerprint shows that step alone.
            let scheduler = StepScheduler(jobs: rehearsal.options.twice ? 1 : rehearsal.options.jobs, clock: rehearsal.clock)
            let outcome = await scheduler.run(
                // The cut comes first among steps that become ready together: at that instant nothing
                // else starts.
                nodes: graph.forwardOrder(of: rehearsable), waitsFor: waitsFor,
                priority: { $0 == cutBefore ? .max : -$0 },
                policy: .stopEverything, failsWithoutRunning: cutBefore, halted: { timedOut.value != nil }
            ) { index in
                let step = graph.steps[index]
                let clock = rehearsal.clock
                let (record, problem) = await runTwice(Activity(.forward, step.id), script: step.run, timeout: plan.timeout(for: step), stop: step.stop,
                                                       timedOut: { timedOut.withLock { $0 = $0 ?? (index, clock.now) } })
                ran.withLock { $0[index] = record }
                if let problem {
                    problems.withLock { $0.append(problem) }
                    // Its first run passed: it is applied, whatever the second did.
                    if case .notSafeTwice = problem { appliedOnce.withLock { _ = $0.insert(index) } }
                }
                // `--fail-at`: the step ran to its end, and now counts as failed.
                let succeeded = record.passed && index != failAt
                if !succeeded { triggerCause.withLock { cause in cause = cause ?? (index == failAt && record.passed ? "cut" : "step-failed") } }
                return succeeded ? .succeeded : .failed
            }
            // What may be applied: every step that started, but an atomic step that failed on its
            // own, exiting non-zero (it applies fully or not at all). Stopped, timed out or killed
            // by a signal, it may have committed: it is rolled back.
            let applied = Set(ran.value.filter { index, record in
                guard record.ran else { return false }
                if graph.steps[index].isAtomic, record.status == .failed, case .exited = record.termination,
                   !appliedOnce.value.contains(index) { return false }
                return true
            }.keys)
            var failure: RollbackTrigger?
            if var first = outcome.firstFailure {
                var reading = outcome.firstFailureReading ?? rehearsal.clock.now
                // A step that timed out failed when its timeout fired, not when it was done being stopped.
                if let (step, at) = timedOut.value, at < reading { (first, reading) = (step, at) }
                let at = reading - origin
                let id = graph.steps[first].id
                if first == cutBefore {
                    failure = RollbackTrigger(reason: .cutBefore(step: id), offset: at)
                } else if first == failAt, ran.value[first]?.passed == true {
                    failure = RollbackTrigger(reason: .injected(step: id), offset: at)
                } else {
                    failure = RollbackTrigger(reason: .stepFailed(step: id), offset: at)
                }
            }
            let records = ran.value.values.filter(\.ran)
            var duration: Duration?
            if let start = records.compactMap(\.startOffset).min(), let end = records.compactMap(\.endOffset).max() {
                duration = end - start
            }
            return ForwardResult(applied: applied, failure: failure, duration: duration, twiceProblems: problems.value)
        }

        // MARK: - Rollback

        struct RollbackResult: Sendable {
            var leftApplied: [String]
            var twiceProblems: [RunReason] = []
        }

        func runRollback(_ graph: StepGraph, applied: Set<Int>) async -> RollbackResult {
            var waitsFor: [Int: [Int]] = [:]
            for node in applied { waitsFor[node] = graph.dependents[node].filter(applied.contains) }
            let undone = Locked<Set<Int>>([])
            let ran = Locked<Set<Int>>([])
            let problems = Locked<[RunReason]>([])
            let scheduler = StepScheduler(jobs: rehearsal.options.twice ? 1 : rehearsal.options.jobs, clock: rehearsal.clock)
            let order = graph.rollbackOrder(of: applied)
            let outcome = await scheduler.run(nodes: order, waitsFor: waitsFor, priority: { $0 }, policy: .blockWaiting) { index in
                let step = graph.steps[index]
                guard let command = step.rollbackCommand else {
                    await log.activityFinished(ActivityRecord(Activity(.rollback, step.id), status: .nothingToRun))
                    return .succeeded
                }
                let (record, problem) = await runTwice(Activity(.rollback, step.id), script: command, timeout: plan.timeout(for: step), stop: step.stop)
                if let problem { problems.withLock { $0.append(problem) } }
                // Journaled (whether or not its process could start): not to be recorded again below.
                if record.startOffset != nil { ran.withLock { _ = $0.insert(index) } }
                // Under --twice, a rollback whose first run passed did undo the step: what needs
                // it undone goes on (the second run's failure is named as not safe twice).
                var undid = record.passed
                if case .notSafeTwice? = problem { undid = true }
                if undid { undone.withLock { _ = $0.insert(index) } }
                return undid ? .succeeded : .failed
            }
            let blocked = Set(outcome.blocked)
            for index in order where !ran.value.contains(index) && graph.steps[index].rollbackCommand != nil {
                let status: ActivityStatus = blocked.contains(index) && !rehearsal.control.isAbandoned ? .blocked : .abandoned
                await log.activityFinished(ActivityRecord(Activity(.rollback, graph.steps[index].id), status: status))
            }
            let left = graph.forwardOrder(of: applied).filter { graph.steps[$0].rollbackCommand != nil && !undone.value.contains($0) }
            return RollbackResult(leftApplied: graph.ids(left), twiceProblems: problems.value)
        }
    }
}
