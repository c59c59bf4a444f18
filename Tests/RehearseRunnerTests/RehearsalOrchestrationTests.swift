import Foundation
import RehearseCore
@testable import RehearseRunner
import RehearseTestSupport
import Testing

/// The rules of a rehearsal, run in-process with a scripted executor and a manual clock: no
/// process is spawned and no test waits for real time.
@Suite(.timeLimit(.minutes(1))) struct RehearsalOrchestrationTests {
    /// a <- b <- c (a chain), d independent; budget 1s.
    static let chain = """
        strategy: custom
        budget: { rollback: 1s }
        targets:
          copy: { env: { PORT: "18080" } }
        checks:
          preflight: [ { name: up, run: 'true' } ]
          smoke: [ { name: v2, run: 'true' } ]
          restored: [ { name: v1, run: 'true' } ]
        steps:
          a: { run: ./a, rollback: ./undo-a }
          b: { run: ./b, rollback: ./undo-b, needs: a }
          c: { run: ./c, rollback: ./undo-c, needs: b }
          d: { run: ./d, rollback: ./undo-d }
        """

    func plan(_ text: String = chain) throws -> Plan {
        let result = PlanParser().parse(text, file: "/virtual/Rehearsals/p.yml", defaultName: "p")
        return try #require(result.plan, "\(result.diagnostics)")
    }

    func rehearse(
        _ plan: Plan, _ executor: ScriptedExecutor, clock: ManualClock, control: RunControl = RunControl(), jobs: Int = 1,
        cut: Cut? = nil, copy: Int? = nil, logs: String = "/nonexistent"
    ) async -> Run {
        let options = RehearsalOptions(runID: "7", target: "copy", jobs: jobs, cut: cut, copy: copy, logsFolder: logs, processMark: "mark")
        return await Rehearsal(plan: plan, options: options, observer: ObserverGroup([]), control: control,
                               executor: executor, clock: clock).run()
    }

    @Test func forwardInDependencyAndFileOrderThenRollbackInReverse() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        let run = await rehearse(try plan(), executor, clock: clock)
        #expect(executor.started == [
            "preflight up", "forward a", "forward b", "forward c", "forward d", "smoke v2",
            "rollback d", "rollback c", "rollback b", "rollback a", "restored v1",
        ])
        #expect(run.status == .passed)
        #expect(run.trigger?.reason == .rehearsal)
        #expect(run.leftApplied.isEmpty)
        // Every command took 10 ms on the manual clock: forward 4, smoke at 50 ms, rollback 4 + 1 check.
        #expect(run.forward == .milliseconds(40))
        #expect(run.trigger?.offset == .milliseconds(60))
        #expect(run.rollback == .milliseconds(50))
        #expect(run.activities.map(\.status).allSatisfy { $0 == .passed })
    }

    @Test func commandsSeeTheTargetAndTheRun() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        _ = await rehearse(try plan(), executor, clock: clock)
        let forward = try #require(executor.environment(of: "forward b"))
        #expect(forward["PORT"] == "18080")
        #expect(forward["REHEARSE_RUN_ID"] == "7")
        #expect(forward["REHEARSE_RUN_TOKEN"] == "mark")
        #expect(forward["REHEARSE_PHASE"] == "forward")
        #expect(forward["REHEARSE_STEP"] == "b")
        #expect(forward["REHEARSE_PLAN"] == "p")
        let check = try #require(executor.environment(of: "smoke v2"))
        #expect(check["REHEARSE_PHASE"] == "check")
        #expect(check["REHEARSE_CHECK"] == "v2")
        #expect(check["REHEARSE_STEP"] == nil)
    }

    @Test(arguments: [1, 2, 3])
    func neverMoreStepsAtOnceThanJobs(jobs: Int) async throws {
        let text = """
            strategy: custom
            targets: { copy: {} }
            steps:
            \((1...6).map { "  s\($0): { run: ./s, rollback: ./u }" }.joined(separator: "\n"))
            """
        let clock = ManualClock()
        // Each forward step waits until `jobs` run at once: they can only all finish if the
        // scheduler really starts that many together.
        var script: [String: ScriptedExecutor.Behaviour] = [:]
        for index in 1...6 { script["forward s\(index)"] = .waitForPeers(jobs) }
        let executor = ScriptedExecutor(clock: clock, script: script)
        let run = await rehearse(try plan(text), executor, clock: clock, jobs: jobs)
        #expect(run.status == .passed)
        #expect(executor.peak == jobs)
    }

    /// `--fail-at b`: b runs to its end, then counts as failed: the trigger comes when it ends,
    /// and b is rolled back with a. (It used to be cut without running while its rollback ran.)
    @Test func failAtRunsTheStepThenRollsItBackWithWhatCameBefore() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward b": .pass(after: .milliseconds(30))])
        let run = await rehearse(try plan(), executor, clock: clock, cut: .failAt("b"))
        #expect(executor.started == ["preflight up", "forward a", "forward b", "rollback b", "rollback a", "restored v1"])
        #expect(run.trigger?.reason == .injected(step: "b"))
        #expect(run.trigger?.offset == .milliseconds(50))  // preflight 10, a 10, b 30: at b's end
        #expect(run.cut == .failAt("b"))
        #expect(run.activities.first { $0.activity == Activity(.forward, "b") }?.status == .passed)
        #expect(run.status == .passed)
        #expect(run.coverage == "2 of 4 steps applied, fail at b")
    }

    /// A `--fail-at` step that fails on its own is a real failure: the trigger says so.
    @Test func aFailAtStepThatFailsOnItsOwnIsAFailure() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward b": .fail(exit: 4, after: .milliseconds(10))])
        let run = await rehearse(try plan(), executor, clock: clock, cut: .failAt("b"))
        #expect(run.trigger?.reason == .stepFailed(step: "b"))
        #expect(run.status == .failed)
    }

    /// `--cut-before c`: the trigger comes just before c would start; c never runs and is never
    /// rolled back, and neither is anything that would have come after it.
    @Test func cutBeforeTriggersJustBeforeTheStepWhichNeverRunsNorIsRolledBack() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        let run = await rehearse(try plan(), executor, clock: clock, cut: .before("c"))
        #expect(executor.started == ["preflight up", "forward a", "forward b", "rollback b", "rollback a", "restored v1"])
        #expect(run.trigger?.reason == .cutBefore(step: "c"))
        #expect(run.trigger?.offset == .milliseconds(30))  // at b's end, the moment c would start
        #expect(!run.activities.contains { $0.name == "c" })
        #expect(run.status == .passed)
        #expect(run.coverage == "2 of 4 steps applied, cut before c")
    }

    /// Cutting before the first step: nothing is applied, and nothing is rolled back.
    @Test func cutBeforeTheFirstStepAppliesNothing() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        let run = await rehearse(try plan(), executor, clock: clock, cut: .before("a"))
        #expect(executor.started == ["preflight up", "restored v1"])
        #expect(run.trigger?.reason == .cutBefore(step: "a"))
        #expect(run.status == .passed)
        #expect(run.coverage == "0 of 4 steps applied, cut before a")
    }

    /// On parallel branches the cut stops what runs beside it, as a real failure would; what was
    /// stopped may be partly applied, so it is rolled back.
    @Test func aCutStopsTheBranchesRunningBesideIt() async throws {
        let text = """
            strategy: custom
            targets: { copy: {} }
            steps:
              slow: { run: ./slow, rollback: ./undo-slow }
              quick: { run: ./quick, rollback: ./undo-quick }
              after: { run: ./after, rollback: ./undo-after, needs: quick }
            """
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward slow": .hang])
        let run = await rehearse(try plan(text), executor, clock: clock, jobs: 2, cut: .before("after"))
        #expect(run.trigger?.reason == .cutBefore(step: "after"))
        #expect(run.activities.first { $0.name == "slow" && $0.kind == .forward }?.status == .stopped)
        #expect(Set(executor.started.filter { $0.hasPrefix("rollback") }) == ["rollback slow", "rollback quick"])
        #expect(!executor.started.contains("forward after"))
    }

    /// An atomic step applies fully or not at all: failing on its own, it is not rolled back.
    @Test func aFailedAtomicStepIsNotRolledBack() async throws {
        let text = Self.chain.replacingOccurrences(of: "b: { run: ./b, rollback: ./undo-b, needs: a }",
                                                   with: "b: { run: ./b, rollback: ./undo-b, needs: a, atomic: true }")
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward b": .fail(exit: 1, after: .milliseconds(10))])
        let run = await rehearse(try plan(text), executor, clock: clock)
        #expect(try plan(text).step(withID: "b")?.isAtomic == true)
        #expect(run.trigger?.reason == .stepFailed(step: "b"))
        #expect(executor.started.filter { $0.hasPrefix("rollback") } == ["rollback a"])
        #expect(run.status == .failed)
        #expect(run.leftApplied.isEmpty)
    }

    /// --twice: an atomic step whose first run passed is applied, whatever its second run did.
    @Test func anAtomicStepThatPassedOnceIsRolledBackUnderTwice() async throws {
        let text = Self.chain.replacingOccurrences(of: "b: { run: ./b, rollback: ./undo-b, needs: a }",
                                                   with: "b: { run: ./b, rollback: ./undo-b, needs: a, atomic: true }")
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, onRepeat: ["forward b": .fail(exit: 1, after: .milliseconds(5))])
        var options = RehearsalOptions(runID: "7", target: "copy", logsFolder: "/nonexistent", processMark: "mark")
        options.twice = true
        let run = await Rehearsal(plan: try plan(text), options: options, observer: ObserverGroup([]), executor: executor, clock: clock).run()
        #expect(run.reasons.contains(.notSafeTwice(phase: .forward, step: "b", how: "the second run failed (exit 1)")))
        #expect(executor.started.contains("rollback b"))
        #expect(run.stillApplied(atomic: ["b"]).isEmpty)
        #expect(run.leftApplied.isEmpty)
    }

    /// --twice: a rollback whose first run passed did undo its step: what needs it undone goes on.
    @Test func aRollbackThatFailsOnlyTheSecondTimeDoesNotBlockTheRest() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, onRepeat: ["rollback b": .fail(exit: 1, after: .milliseconds(5))])
        var options = RehearsalOptions(runID: "7", target: "copy", logsFolder: "/nonexistent", processMark: "mark")
        options.twice = true
        let run = await Rehearsal(plan: try plan(), options: options, observer: ObserverGroup([]), executor: executor, clock: clock).run()
        #expect(run.reasons.contains(.notSafeTwice(phase: .rollback, step: "b", how: "the second run failed (exit 1)")))
        #expect(executor.started.filter { $0 == "rollback a" }.count == 2)
        #expect(run.leftApplied.isEmpty)
        #expect(run.stillApplied.isEmpty)
    }

    /// Stopped by the harness (a timeout), an atomic step may have committed: it is rolled back.
    @Test func aTimedOutAtomicStepIsStillRolledBack() async throws {
        let text = Self.chain.replacingOccurrences(of: "b: { run: ./b, rollback: ./undo-b, needs: a }",
                                                   with: "b: { run: ./b, rollback: ./undo-b, needs: a, atomic: true }")
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward b": .timeOut(after: .milliseconds(10))])
        let run = await rehearse(try plan(text), executor, clock: clock)
        #expect(executor.started.filter { $0.hasPrefix("rollback") } == ["rollback b", "rollback a"])
    }

    /// Each copy of a side-by-side every-cut run is told which it is, and a target's values can
    /// place it apart.
    @Test func commandsSeeTheirCopyAndTargetValuesCanUseIt() async throws {
        let text = """
            strategy: custom
            targets:
              copy: { env: { APP_ROOT: '../copy-$REHEARSE_COPY', LOG: '/tmp/${REHEARSE_RUN_ID}.log', KEEP: '$REHEARSE_COPYX $HOME' } }
            steps:
              a: { run: ./a, rollback: ./undo-a }
            """
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        _ = await rehearse(try plan(text), executor, clock: clock, copy: 3)
        let environment = try #require(executor.environment(of: "forward a"))
        #expect(environment["REHEARSE_COPY"] == "3")
        #expect(environment["APP_ROOT"] == "../copy-3")
        #expect(environment["LOG"] == "/tmp/7.log")
        #expect(environment["KEEP"] == "$REHEARSE_COPYX $HOME")
        // Without copies, it is copy 1.
        let single = ScriptedExecutor(clock: clock)
        _ = await rehearse(try plan(text), single, clock: clock)
        #expect(single.environment(of: "forward a")?["APP_ROOT"] == "../copy-1")
    }

    @Test func aFailedStepTriggersTheRollbackOfWhatStartedIncludingItself() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward b": .fail(exit: 3, after: .milliseconds(20))])
        let run = await rehearse(try plan(), executor, clock: clock)
        #expect(run.trigger?.reason == .stepFailed(step: "b"))
        #expect(run.trigger?.offset == .milliseconds(40))  // preflight 10, a 10, b 20
        #expect(!executor.started.contains("forward c"))
        #expect(!executor.started.contains("smoke v2"))
        #expect(executor.started.filter { $0.hasPrefix("rollback") } == ["rollback b", "rollback a"])
        #expect(run.status == .failed)
        #expect(run.reasons == [.stepFailed(step: "b", how: "exit 3")])
        #expect(run.leftApplied.isEmpty)
    }

    @Test func aFailureStopsTheStepsRunningBesideIt() async throws {
        let text = """
            strategy: custom
            targets: { copy: {} }
            steps:
              slow: { run: ./slow, rollback: ./undo-slow }
              broken: { run: ./broken, rollback: ./undo-broken }
              later: { run: ./later, rollback: ./undo-later, needs: broken }
            """
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward slow": .hang, "forward broken": .fail(exit: 1, after: .milliseconds(5))])
        let run = await rehearse(try plan(text), executor, clock: clock, jobs: 2)
        #expect(executor.stopped == ["forward slow"])
        #expect(!executor.started.contains("forward later"))
        #expect(run.activities.first { $0.activity == Activity(.forward, "slow") }?.status == .stopped)
        // A stopped step may be partly applied: it is rolled back too.
        #expect(Set(executor.started.filter { $0.hasPrefix("rollback") }) == ["rollback slow", "rollback broken"])
        #expect(run.reasons == [.stepFailed(step: "broken", how: "exit 1")])
    }

    /// A step that could not even start changed nothing: it is not rolled back.
    @Test func aStepThatCouldNotStartIsNotRolledBack() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["forward b": .cannotStart])
        let run = await rehearse(try plan(), executor, clock: clock)
        #expect(run.trigger?.reason == .stepFailed(step: "b"))
        #expect(executor.started.filter { $0.hasPrefix("rollback") } == ["rollback a"])
        #expect(run.leftApplied.isEmpty)
        #expect(run.reasons == [.stepFailed(step: "b", how: "could not start: its folder does not exist")])
        #expect(run.stillApplied == [])
    }

    @Test func aFailedRollbackBlocksWhatMustComeAfterItAndNamesWhatIsLeftApplied() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["rollback b": .fail(exit: 1, after: .milliseconds(5))])
        let run = await rehearse(try plan(), executor, clock: clock)
        // d is independent of b: its rollback still runs; a needs b rolled back first: blocked.
        #expect(executor.started.filter { $0.hasPrefix("rollback") } == ["rollback d", "rollback c", "rollback b"])
        #expect(run.activities.first { $0.activity == Activity(.rollback, "a") }?.status == .blocked)
        #expect(run.leftApplied == ["a", "b"])
        #expect(run.status == .failed)
        #expect(run.reasons == [.rollbackFailed(step: "b", how: "exit 1"), .rollbackBlocked(step: "a")])
    }

    @Test func aFailingSmokeCheckIsTheTrigger() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["smoke v2": .fail(exit: 22, after: .milliseconds(10))])
        let run = await rehearse(try plan(), executor, clock: clock)
        #expect(run.trigger?.reason == .smokeFailed(check: "v2"))
        #expect(run.trigger?.offset == .milliseconds(60))
        #expect(executor.started.filter { $0.hasPrefix("rollback") }.count == 4)
        #expect(run.reasons == [.checkFailed(phase: .smoke, check: "v2", how: "exit 22")])
    }

    @Test func aFailingPreflightRunsNothingAndRollsNothingBack() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["preflight up": .fail(exit: 7, after: .milliseconds(1))])
        let run = await rehearse(try plan(), executor, clock: clock)
        #expect(executor.started == ["preflight up"])
        #expect(run.trigger == nil)
        #expect(run.rollback == nil)
        #expect(run.status == .failed)
    }

    @Test func overTheBudgetIsOverBudgetAndNamesTheSlowestRollbacks() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: [
            "rollback c": .pass(after: .milliseconds(600)), "rollback a": .pass(after: .milliseconds(450)),
        ])
        let run = await rehearse(try plan(), executor, clock: clock)
        // d 10 + c 600 + b 10 + a 450 + restored 10.
        #expect(run.rollback == .milliseconds(1080))
        #expect(run.status == .overBudget)
        #expect(run.reasons.isEmpty)
        #expect(run.slowestRollbacks(2).map(\.name) == ["c", "a"])
    }

    @Test func atEightyPercentOfTheBudgetItPassesWithAWarning() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["rollback c": .pass(after: .milliseconds(770))])
        let run = await rehearse(try plan(), executor, clock: clock)
        #expect(run.rollback == .milliseconds(810))
        #expect(run.status == .passed)
        #expect(run.isNearBudget)
    }

    @Test func aSignalDuringTheForwardStepsStopsThemAndRollsBackWhatStarted() async throws {
        let clock = ManualClock()
        let control = RunControl(clock: clock)
        let executor = ScriptedExecutor(clock: clock, script: ["forward b": .signal(SIGINT, then: .hang)], control: control)
        let run = await rehearse(try plan(), executor, clock: clock, control: control)
        #expect(executor.stopped == ["forward b"])
        #expect(!executor.started.contains("forward c"))
        #expect(!executor.started.contains("smoke v2"))
        #expect(run.trigger?.reason == .interrupted(signal: SIGINT))
        #expect(run.trigger?.offset == .milliseconds(20))
        #expect(executor.started.filter { $0.hasPrefix("rollback") } == ["rollback b", "rollback a"])
        #expect(run.status == .interrupted)
        #expect(run.leftApplied.isEmpty)
    }

    @Test func aSecondSignalAbandonsTheRollbackAndSaysWhatIsLeftApplied() async throws {
        let clock = ManualClock()
        let control = RunControl(clock: clock)
        let executor = ScriptedExecutor(clock: clock, script: [
            "forward c": .signal(SIGTERM, then: .fail(exit: 1, after: .milliseconds(1))),
            "rollback b": .signal(SIGTERM, then: .hang),
        ], control: control)
        let run = await rehearse(try plan(), executor, clock: clock, control: control)
        #expect(executor.stopped == ["rollback b"])
        #expect(!executor.started.contains("rollback a"))
        #expect(!executor.started.contains("restored v1"))
        #expect(run.activities.first { $0.activity == Activity(.rollback, "a") }?.status == .abandoned)
        #expect(run.leftApplied == ["a", "b"])
        #expect(run.status == .interrupted)
        #expect(run.signal == SIGTERM)
    }

    /// SIGTERM during the rollback (the trigger was the rehearsal's own): the run is interrupted
    /// by SIGTERM, not by a SIGINT nobody sent.
    @Test func aSignalDuringTheRollbackIsTheOneRecorded() async throws {
        let clock = ManualClock()
        let control = RunControl(clock: clock)
        let executor = ScriptedExecutor(clock: clock, script: ["rollback c": .signal(SIGTERM, then: .pass(after: .milliseconds(1)))],
                                        control: control)
        let run = await rehearse(try plan(), executor, clock: clock, control: control)
        #expect(run.trigger?.reason == .rehearsal)
        #expect(run.status == .interrupted)
        #expect(run.signal == SIGTERM)
        #expect(run.reasons.contains(.interrupted(signal: SIGTERM)))
        // The rollback went on to its end: one signal does not abandon it.
        #expect(run.leftApplied.isEmpty)
    }

    /// The plan's inputs changed while the run went on: it stands for no version of the plan.
    @Test func contentThatChangedWhileItRanFailsTheRun() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        let options = RehearsalOptions(runID: "7", target: "copy", logsFolder: "/nonexistent", processMark: "mark",
                                       contentChanged: { "../m/001.sql changed" })
        let run = await Rehearsal(plan: try plan(), options: options, observer: ObserverGroup([]), executor: executor, clock: clock).run()
        #expect(run.status == .failed)
        #expect(run.reasons.map(\.description) == ["the plan's inputs changed while it ran (../m/001.sql changed): the run stands for no version of the plan"])
    }

    @Test func aFingerprintThatChangesFailsTheRehearsal() async throws {
        try await TemporaryFolder.with { folder in
            let text = """
                strategy: custom
                targets: { copy: {} }
                fingerprint: ./digest
                steps:
                  a: { run: ./a, rollback: ./undo-a }
                """
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock, script: [
                "fingerprint-before fingerprint": .print("rows 10\n", after: .milliseconds(3)),
                "fingerprint-after fingerprint": .print("rows 9\n", after: .milliseconds(3)),
            ])
            let run = await rehearse(try plan(text), executor, clock: clock, logs: folder.path)
            #expect(run.fingerprintBefore == "rows 10\n")
            #expect(run.fingerprintAfter == "rows 9\n")
            #expect(run.status == .failed)
            #expect(run.reasons == [.fingerprintDiffers])
        }
    }

    /// A fingerprint over the kept size: the run keeps its first lines, its size and the digest
    /// of its compared lines, and compares the whole outputs by digest.
    func largeFingerprint(ignore: Bool, after: String) async throws -> Run {
        try await TemporaryFolder.with { folder in
            let text = """
                strategy: custom
                targets: { copy: {} }
                fingerprint:
                  run: ./digest
                  ignore: \(ignore ? "[ '^token ' ]" : "[]")
                  accept: [ { match: '.', reason: everything } ]
                steps:
                  a: { run: ./a, rollback: ./undo-a }
                """
            let clock = ManualClock()
            let executor = ScriptedExecutor(clock: clock, script: [
                "fingerprint-before fingerprint": .print(Self.rows + "token 1\n", after: .milliseconds(3)),
                "fingerprint-after fingerprint": .print(after, after: .milliseconds(3)),
            ])
            return await rehearse(try plan(text), executor, clock: clock, logs: folder.path)
        }
    }

    /// 1.6 MB of rows: more than a run keeps as text.
    static let rows = (1...150_000).map { "row \($0)\n" }.joined()

    @Test func aLargeFingerprintIsKeptBoundedAndComparedWhole() async throws {
        // The same rows, the volatile last line ignored: it passes, though the line differs.
        let same = try await largeFingerprint(ignore: true, after: Self.rows + "token 2\n")
        #expect(same.status == .passed, "\(same.reasons)")
        let before = try #require(same.fingerprints.before)
        #expect(!before.isWhole)
        #expect(before.size == Self.rows.utf8.count + 8)
        #expect(before.text.utf8.count <= FingerprintOutput.keptBytes)
        #expect(before.text.hasPrefix("row 1\nrow 2\n") && before.text.hasSuffix("\n"))
        #expect(before.digest == same.fingerprints.after?.digest)
        // A row changed past what is kept: no accept entry can cover what was never compared.
        let changed = try await largeFingerprint(ignore: true, after: Self.rows.replacingOccurrences(of: "row 149999\n", with: "row 0\n") + "token 1\n")
        #expect(changed.status == .failed)
        #expect(changed.reasons == [.fingerprintDiffers])
        let comparison = try #require(changed.fingerprintComparison)
        #expect(comparison.unaccepted.count == 1)
        #expect(comparison.unaccepted.first?.text.contains("only their first 1 MiB is kept and shown") == true)
        // Without ignore, the volatile line alone differs.
        let volatile = try await largeFingerprint(ignore: false, after: Self.rows + "token 2\n")
        #expect(volatile.status == .failed)
        #expect(volatile.fingerprints.before?.digest != volatile.fingerprints.after?.digest)
    }

    @Test func strayProcessesAreStoppedAndReported() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, leftovers: ["python3 -m http.server"])
        let run = await rehearse(try plan(), executor, clock: clock)
        #expect(run.strayProcesses == ["python3 -m http.server"])
        #expect(run.status == .passed)
    }

    /// A round trip times both rollbacks and holds the slower against the budget.
    @Test func aRoundTripTimesBothRollbacksAndTheSlowerCounts() async throws {
        let clock = ManualClock()
        // The second time, rollback c is slow: 1.2 s against a 1 s budget.
        let executor = ScriptedExecutor(clock: clock, script: [:])
        var options = RehearsalOptions(runID: "7", target: "copy", logsFolder: "/nonexistent", processMark: "mark")
        options.roundTrip = true
        let run = await Rehearsal(plan: try plan(), options: options, observer: ObserverGroup([]), executor: executor, clock: clock).run()
        #expect(executor.started.filter { $0 == "forward a" }.count == 2)
        #expect(executor.started.filter { $0 == "rollback a" }.count == 2)
        #expect(run.status == .passed)
        #expect(run.rollback == .milliseconds(50))
        #expect(run.stillApplied.isEmpty)
        let slow = ScriptedExecutor(clock: clock, onRepeat: ["rollback c": .pass(after: .milliseconds(1200))])
        let second = await Rehearsal(plan: try plan(), options: options, observer: ObserverGroup([]), executor: slow, clock: clock).run()
        #expect(second.status == .overBudget)
        #expect(second.rollback == .milliseconds(1240))
    }

    @Test func recoveryRollsBackOnlyWhatItIsGiven() async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock)
        let options = RehearsalOptions(runID: "7", target: "copy", logsFolder: "/nonexistent", processMark: "mark")
        let recovery = await Rehearsal(plan: try plan(), options: options, observer: ObserverGroup([]), executor: executor, clock: clock)
            .rollBack(applied: ["b", "a", "gone"])
        // Then verified as a rehearsal is: the restored checks.
        #expect(executor.started == ["rollback b", "rollback a", "restored v1"])
        #expect(recovery.stillApplied.isEmpty)
        #expect(recovery.problems.isEmpty)
    }

    /// recover verifies: a restored check that fails, a fingerprint unlike the run's own before.
    @Test func recoveryVerifiesWithTheRestoredChecksAndTheFingerprint() async throws {
        let text = Self.chain.replacingOccurrences(of: "steps:", with: "fingerprint: ./digest\nsteps:")
        let clock = ManualClock()
        let executor = ScriptedExecutor(clock: clock, script: ["restored v1": .fail(exit: 1, after: .milliseconds(5)),
                                                               "fingerprint-after fingerprint after recovery": .print("state B", after: .milliseconds(5))])
        try await TemporaryFolder.with { folder in
            let options = RehearsalOptions(runID: "7", target: "copy", logsFolder: folder.path, processMark: "mark")
            let recovery = await Rehearsal(plan: try plan(text), options: options, observer: ObserverGroup([]), executor: executor, clock: clock)
                .rollBack(applied: ["a"], startedAt: clock.date.addingTimeInterval(-60), fingerprintBefore: FingerprintOutput("state A\n"))
            #expect(recovery.problems.contains(.checkFailed(phase: .restored, check: "v1", how: "exit 1")))
            #expect(recovery.problems.contains(.fingerprintDiffers))
            #expect(folder.exists("recovery-fingerprint.diff"))
            // On the run's own time line: a minute after the run began.
            #expect((recovery.activities.first?.startOffset ?? .zero) >= .seconds(59))
        }
    }
}
