import Foundation
import RehearseCore

extension Rehearsal {
    /// What every stage of one run shares: the clock origin, the execution log, the command runner
    /// and the environment handed to commands.
    struct Context: Sendable {
        let rehearsal: Rehearsal
        let origin: ContinuousClock.Instant
        let log: ExecutionLog
        let runner: CommandRunner
        let environment: [String: String]

        init(rehearsal: Rehearsal, origin: ContinuousClock.Instant) {
            self.rehearsal = rehearsal
            self.origin = origin
            let options = rehearsal.options
            log = ExecutionLog(observer: rehearsal.observer, logsFolder: options.logsFolder)
            runner = CommandRunner(killGrace: options.killGrace, origin: origin, liveOutput: options.liveOutput)
            var environment: [String: String] = [:]
            for variable in rehearsal.plan.target(named: options.target)?.environment ?? [] {
                environment[variable.name] = variable.value
            }
            environment["REHEARSE_RUN_ID"] = options.runID
            environment["REHEARSE_RUN_TOKEN"] = options.processMark
            environment["REHEARSE_TARGET"] = options.target
            environment["REHEARSE_PLAN"] = rehearsal.plan.name
            self.environment = environment
        }

        var plan: Plan { rehearsal.plan }

        /// Runs a stage that the `threshold`-th signal cancels (1: forward side, 2: rollback side).
        func stage<T: Sendable>(_ threshold: Int, _ body: @escaping @Sendable () async -> T) async -> T {
            await rehearsal.control.cancellable(afterSignals: threshold, body)
        }

        /// Runs one command of the plan and records it. A cancelled stage starts nothing and records
        /// nothing (the caller decides whether a command that never ran matters).
        func execute(_ activity: Activity, _ command: Command) async -> Execution {
            await execute(activity, script: command.run, timeout: command.timeout ?? plan.budget.stepTimeout)
        }

        func execute(_ activity: Activity, script: String, timeout: Duration, captureFile: String? = nil) async -> Execution {
            if Task.isCancelled {
                return Execution(activity, status: activity.kind == .rollback ? .abandoned : .stopped)
            }
            var environment = self.environment
            environment["REHEARSE_PHASE"] = activity.kind.environmentPhase
            if activity.kind.isStep {
                environment["REHEARSE_STEP"] = activity.name
            } else if activity.kind.isCheck {
                environment["REHEARSE_CHECK"] = activity.name
            }
            let logFile = log.logFile(for: activity)
            await log.activityStarted(activity, offset: ContinuousClock.now - origin)
            let outcome = await runner.run(ShellCommand(
                activity: activity, script: script, workingDirectory: rehearsal.workingDirectory,
                environment: environment, timeout: timeout, logFile: logFile, captureFile: captureFile))
            let execution = Execution(activity, status: Execution.Status(outcome), outcome: outcome)
            await log.activityFinished(execution)
            return execution
        }

        /// Runs the fingerprint command; its standard output is the value.
        func fingerprint(_ kind: Activity.Kind, _ command: Command) async -> (Execution, String?) {
            let activity = Activity(kind, "fingerprint")
            let capture = log.logFile(for: activity, suffix: "out")
            let execution = await execute(activity, script: command.run, timeout: command.timeout ?? plan.budget.stepTimeout,
                                          captureFile: capture)
            guard execution.passed, let data = FileManager.default.contents(atPath: capture) else { return (execution, nil) }
            return (execution, String(decoding: data, as: UTF8.self))
        }

        // MARK: - Forward

        struct ForwardResult: Sendable {
            var applied: Set<Int>
            var failure: RollbackTrigger?
            var duration: Duration?
        }

        func runForward(_ graph: StepGraph) async -> ForwardResult {
            let rehearsable = graph.rehearsable()
            let failAt = rehearsal.options.failAt.flatMap(graph.index(of:))
            var waitsFor: [Int: [Int]] = [:]
            for node in rehearsable { waitsFor[node] = graph.needs[node] }
            let ran = Locked<[Int: Execution]>([:])
            let scheduler = StepScheduler(jobs: rehearsal.options.jobs)
            let outcome = await scheduler.run(
                // The cut comes first among steps that become ready together: at that instant nothing
                // else starts.
                nodes: graph.forwardOrder(of: rehearsable), waitsFor: waitsFor, priority: { $0 == failAt ? .max : -$0 },
                policy: .stopEverything, failsWithoutRunning: failAt
            ) { index in
                let step = graph.steps[index]
                let execution = await execute(Activity(.forward, step.id), script: step.run, timeout: plan.timeout(for: step))
                ran.withLock { $0[index] = execution }
                return execution.passed ? .succeeded : .failed
            }
            var applied = Set(ran.value.filter { $0.value.outcome != nil }.keys)
            var failure: RollbackTrigger?
            if let first = outcome.firstFailure {
                let offset = (outcome.firstFailureInstant ?? .now) - origin
                if first == failAt {
                    applied.insert(first)
                    await log.activityFinished(Execution(Activity(.forward, graph.steps[first].id), status: .injectedFailure))
                    failure = RollbackTrigger(reason: .injected(step: graph.steps[first].id), offset: offset)
                } else {
                    failure = RollbackTrigger(reason: .stepFailed(step: graph.steps[first].id), offset: offset)
                }
            }
            let outcomes = ran.value.values.compactMap(\.outcome)
            var duration: Duration?
            if let start = outcomes.map(\.startOffset).min(), let end = outcomes.map(\.endOffset).max() {
                duration = end - start
            }
            return ForwardResult(applied: applied, failure: failure, duration: duration)
        }

        // MARK: - Rollback

        struct RollbackResult: Sendable {
            var leftApplied: [String]
            var harmless: [String]
        }

        func runRollback(_ graph: StepGraph, applied: Set<Int>) async -> RollbackResult {
            var waitsFor: [Int: [Int]] = [:]
            for node in applied { waitsFor[node] = graph.dependents[node].filter(applied.contains) }
            let undone = Locked<Set<Int>>([])
            let ran = Locked<Set<Int>>([])
            let scheduler = StepScheduler(jobs: rehearsal.options.jobs)
            let outcome = await scheduler.run(
                nodes: graph.rollbackOrder(of: applied), waitsFor: waitsFor, priority: { $0 }, policy: .blockWaiting
            ) { index in
                let step = graph.steps[index]
                guard let command = step.rollbackCommand else {
                    await log.activityFinished(Execution(Activity(.rollback, step.id), status: .nothingToRun))
                    return .succeeded
                }
                let execution = await execute(Activity(.rollback, step.id), script: command, timeout: plan.timeout(for: step))
                if execution.outcome != nil { ran.withLock { _ = $0.insert(index) } }
                if execution.passed { undone.withLock { _ = $0.insert(index) } }
                return execution.passed ? .succeeded : .failed
            }
            let blocked = Set(outcome.blocked)
            for index in graph.rollbackOrder(of: applied) where !ran.value.contains(index) && graph.steps[index].rollbackCommand != nil {
                let status: Execution.Status = blocked.contains(index) && !rehearsal.control.isAbandoned ? .blocked : .abandoned
                await log.activityFinished(Execution(Activity(.rollback, graph.steps[index].id), status: status))
            }
            let left = graph.forwardOrder(of: applied).filter { graph.steps[$0].rollbackCommand != nil && !undone.value.contains($0) }
            let harmless = graph.forwardOrder(of: applied).filter { graph.steps[$0].rollbackCommand == nil }
            return RollbackResult(leftApplied: graph.ids(left), harmless: graph.ids(harmless))
        }
    }
}
