import Foundation
public import RehearseCore

/// One rehearsal of a plan against a target: setup, preflight, fingerprint, forward steps, smoke
/// checks, the rollback trigger, rollback steps, restored checks, fingerprint, teardown.
///
/// Everything a step does is data in the returned ``RunRecord``; ``run()`` never throws. Events go
/// to the observer as they happen. Signals reach the run through ``RunControl``: the first stops
/// the forward steps and rolls back what was applied, the second abandons the rollback.
public struct Rehearsal: Sendable {
    public let plan: Plan
    public let options: RehearsalOptions
    public let observer: any RunObserver
    public let control: RunControl

    public init(plan: Plan, options: RehearsalOptions, observer: any RunObserver, control: RunControl = RunControl()) {
        self.plan = plan
        self.options = options
        self.observer = observer
        self.control = control
    }

    /// The folder commands run in: the plan file's own.
    var workingDirectory: String {
        URL(fileURLWithPath: plan.file).deletingLastPathComponent().path
    }

    public func run() async -> RunRecord {
        let origin = ContinuousClock.now
        let context = Context(rehearsal: self, origin: origin)
        let header = RunHeader(runID: options.runID, plan: plan, target: options.target, startedAt: Date(),
                               failAt: options.failAt, jobs: options.jobs)
        await context.log.emit(.runStarted(header))
        let graph = StepGraph(steps: plan.steps)
        let target = plan.target(named: options.target)

        // Before anything is applied: a failure here aborts with nothing to roll back.
        var ready = true
        if let setup = target?.setup {
            ready = await context.stage(1) { await context.execute(Activity(.setup, options.target), setup) }.passed
        }
        if ready {
            for check in plan.checks.preflight where ready {
                ready = await context.stage(1) { await context.execute(Activity(.preflight, check.name), check.command) }.passed
            }
        }
        var fingerprintBefore: String?
        if ready, let fingerprint = plan.fingerprint {
            let (execution, value) = await context.stage(1) { await context.fingerprint(.fingerprintBefore, fingerprint) }
            fingerprintBefore = value
            ready = execution.passed
        }
        ready = ready && control.signalCount == 0

        // Forward steps, then smoke checks, until the trigger.
        var applied = Set<Int>()
        var trigger: RollbackTrigger?
        var forwardDuration: Duration?
        if ready {
            let forward = await context.stage(1) { await context.runForward(graph) }
            applied = forward.applied
            forwardDuration = forward.duration
            if let signal = control.firstSignal {
                trigger = RollbackTrigger(reason: .interrupted(signal: signal), offset: (control.firstSignalInstant ?? .now) - origin)
            } else if let failure = forward.failure {
                trigger = failure
            }
            if trigger == nil {
                for check in plan.checks.smoke {
                    let execution = await context.stage(1) { await context.execute(Activity(.smoke, check.name), check.command) }
                    if let signal = control.firstSignal {
                        trigger = RollbackTrigger(reason: .interrupted(signal: signal), offset: (control.firstSignalInstant ?? .now) - origin)
                        break
                    }
                    if !execution.passed {
                        trigger = RollbackTrigger(reason: .smokeFailed(check: check.name), offset: ContinuousClock.now - origin)
                        break
                    }
                }
            }
            if trigger == nil {
                trigger = RollbackTrigger(reason: .rehearsal, offset: ContinuousClock.now - origin)
            }
        }

        // The rollback, timed from the trigger.
        var rollbackDuration: Duration?
        var leftApplied: [String] = []
        var leftAppliedHarmless: [String] = []
        var fingerprintAfter: String?
        if let trigger {
            await context.log.emit(.rollbackTriggered(trigger))
            let rollback = await context.stage(2) { [applied] in await context.runRollback(graph, applied: applied) }
            leftApplied = rollback.leftApplied
            leftAppliedHarmless = rollback.harmless
            for check in plan.checks.restored where !control.isAbandoned {
                _ = await context.stage(2) { await context.execute(Activity(.restored, check.name), check.command) }
            }
            rollbackDuration = ContinuousClock.now - (origin + trigger.offset)
            if fingerprintBefore != nil, let fingerprint = plan.fingerprint, !control.isAbandoned {
                fingerprintAfter = await context.stage(2) { await context.fingerprint(.fingerprintAfter, fingerprint) }.1
            }
        }

        // Teardown, unless the rollback was abandoned: then the copy is left as it is, for `recover`.
        if let teardown = target?.teardown, !control.isAbandoned {
            _ = await context.stage(2) { await context.execute(Activity(.teardown, options.target), teardown) }
        }
        let strays = stopStrayProcesses()

        let executions = context.log.executions
        let verdict = Verdict.judge(
            executions: executions, rollbackDuration: rollbackDuration, budget: plan.budget.rollback,
            fingerprintBefore: fingerprintBefore, fingerprintAfter: fingerprintAfter, leftApplied: leftApplied,
            interruptedBy: control.firstSignal)
        let record = RunRecord(
            header: header, executions: executions, trigger: trigger, forwardDuration: forwardDuration,
            rollbackDuration: rollbackDuration, totalDuration: ContinuousClock.now - origin,
            fingerprintBefore: fingerprintBefore, fingerprintAfter: fingerprintAfter, leftApplied: leftApplied,
            leftAppliedHarmless: leftAppliedHarmless, strayProcesses: strays, verdict: verdict)
        await context.log.emit(.runFinished(record))
        return record
    }
}

extension Rehearsal {
    /// What `recover` achieved.
    public struct Recovery: Sendable {
        public var executions: [Execution]
        /// Steps still applied after it: their rollback failed, was blocked, or could not start.
        public var stillApplied: [String]
    }

    /// Rolls back `applied` steps only, in reverse dependency order, as a rehearsal's rollback
    /// would: what `recover` runs for an interrupted or killed run. Ids that are not steps of the
    /// plan are ignored.
    public func rollBack(applied: [String]) async -> Recovery {
        let context = Context(rehearsal: self, origin: .now)
        let graph = StepGraph(steps: plan.steps)
        let indices = Set(applied.compactMap(graph.index(of:)))
        let result = await context.stage(2) { await context.runRollback(graph, applied: indices) }
        _ = stopStrayProcesses()
        return Recovery(executions: context.log.executions, stillApplied: result.leftApplied)
    }
}

extension Rehearsal {
    /// Stops what this run's commands left running outside their process groups, and returns
    /// their command lines. Blocks for at most the grace period, and only when there are some.
    func stopStrayProcesses() -> [String] {
        guard options.stopStrayProcesses else { return [] }
        return StrayProcesses.stop(marked: options.processMark, grace: min(options.killGrace, .seconds(2)))
    }
}

extension Execution {
    var passed: Bool { status == .passed }
}
