import Foundation
import RehearseCore
@testable import RehearseStore
import RehearseTestSupport
import Testing

/// What every history does, whatever keeps it: each test runs against an SQLite file and against
/// a database of its own on a real PostgreSQL server (`HistoryBackend.available`).
@Suite struct HistoryStoreContractTests {
    static var plan: Plan { HistoryStoreTests.plan }

    static func start(cut: Cut? = nil, pid: Int32 = getpid(), host: String = ProcessInfo.processInfo.hostName, plan: Plan = plan) -> Run {
        Run(starting: plan, target: "copy",
            provenance: RunProvenance(host: host, user: "tester", pid: pid, toolVersion: "test", gitCommit: "abc"),
            cut: cut, jobs: 4, startedAt: Date(), processMark: "mark")
    }

    static func record(_ kind: Activity.Kind, _ name: String, _ offset: Int, _ duration: Int, exit: Int32 = 0) -> ActivityRecord {
        ActivityRecord(Activity(kind, name), outcome: ProcessOutcome(termination: .exited(exit), outputTail: "tail"),
                       startOffset: .milliseconds(offset), duration: .milliseconds(duration))
    }

    /// A history of `backend` at `location` (a new one when nil), its logs in `folder`.
    static func open(_ backend: HistoryBackend, at location: String, in folder: TemporaryFolder) async throws -> any HistoryStore {
        try await HistoryLocation(location).open(localFolder: folder.path + "/.rehearse")
    }

    /// A finished run, as the engine closes one.
    static func finish(_ run: Run, in store: any HistoryStore, status: RunStatus = .passed) async throws -> Run {
        var run = run
        run.status = status
        run.endedAt = Run.recordedTime(Date())
        run.rollback = .milliseconds(5)
        try await store.finishRun(run)
        return run
    }

    /// What a run looks for on its copy before it starts: the newest run on that target and copy
    /// (of any plan, of this host or any) that may have left steps applied, and whether a later
    /// run made the copy afresh (its setup completed) or took it down since.
    @Test(arguments: HistoryBackend.available)
    func leftoversAndRemakingsAreFoundByTargetCopyAndHost(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            let here = ProcessInfo.processInfo.hostName
            #expect(try await store.latestLeftoverRun(onTarget: "copy", copy: 1, host: nil) == nil)
            let other = PlanParser().parse(HistoryStoreTests.planText, file: "/tmp/Rehearsals/q.yml", defaultName: "q").plan!
            func begin(_ plan: Plan, copy: Int? = nil) async throws -> Run {
                var run = Self.start(plan: plan)
                run.copy = copy
                return try await store.beginRun(run)
            }
            func ran(_ run: Run, _ kind: Activity.Kind, _ name: String, exit: Int32 = 0) async throws {
                try await store.activityFinished(run: run.id, row: nil, Self.record(kind, name, 1, 2, exit: exit))
            }
            // Run 1 (no copy given: copy 1) failed with a left applied.
            var first = try await begin(Self.plan)
            try await ran(first, .forward, "a")
            first.leftApplied = ["a"]
            first = try await Self.finish(first, in: store, status: .failed)
            // Run 2 on copy 2, still running; run 3 of another plan on copy 1, its setup failed.
            let second = try await begin(other, copy: 2)
            var third = try await begin(other, copy: 1)
            try await ran(third, .setup, "copy", exit: 3)
            third = try await Self.finish(third, in: store, status: .failed)
            #expect(try await store.latestLeftoverRun(onTarget: "copy", copy: 1, host: nil)?.id == first.id)
            #expect(try await store.latestLeftoverRun(onTarget: "copy", copy: 1, host: here)?.activities.map(\.name) == ["a"])
            #expect(try await store.latestLeftoverRun(onTarget: "copy", copy: 1, host: "laptop-9") == nil)
            #expect(try await store.latestLeftoverRun(onTarget: "copy", copy: 2, host: nil)?.id == second.id)
            #expect(try await store.latestLeftoverRun(onTarget: "copy", copy: 3, host: nil) == nil)
            #expect(try await store.latestLeftoverRun(onTarget: "production", copy: 1, host: nil) == nil)
            // A setup that failed made nothing afresh; one that completed did, on its copy only.
            #expect(try await store.latestRemakingRun(onTarget: "copy", copy: 1, host: nil, after: first.id) == nil)
            let fourth = try await begin(other, copy: 1)
            try await ran(fourth, .setup, "copy")
            _ = try await Self.finish(fourth, in: store)
            // A run that passed on the copy found it as it left it: nothing older is looked at.
            #expect(try await store.latestLeftoverRun(onTarget: "copy", copy: 1, host: nil) == nil)
            #expect(try await store.latestRemakingRun(onTarget: "copy", copy: 1, host: here, after: first.id)?.id == fourth.id)
            #expect(try await store.latestRemakingRun(onTarget: "copy", copy: 1, host: "laptop-9", after: first.id) == nil)
            #expect(try await store.latestRemakingRun(onTarget: "copy", copy: 1, host: nil, after: fourth.id) == nil)
            #expect(try await store.latestRemakingRun(onTarget: "copy", copy: 2, host: nil, after: 0) == nil)
            // A teardown that completed took the copy down.
            let fifth = try await begin(Self.plan, copy: 2)
            try await ran(fifth, .teardown, "copy")
            _ = try await Self.finish(fifth, in: store)
            #expect(try await store.latestRemakingRun(onTarget: "copy", copy: 2, host: nil, after: second.id)?.id == fifth.id)
        }
    }

    /// A broken rollback's differing fingerprint stands until a later pass of the same plan on the
    /// copy, with a fingerprint, shows it clean; another plan's pass shows nothing.
    @Test(arguments: HistoryBackend.available)
    func aFingerprintDifferenceStandsUntilAPassOfThePlanClearsIt(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            let other = PlanParser().parse(HistoryStoreTests.planText, file: "/tmp/Rehearsals/q.yml", defaultName: "q").plan!
            func finished(_ plan: Plan, _ status: RunStatus, fingerprint: Bool, differs: Bool = false) async throws -> Run {
                var run = try await store.beginRun(Self.start(plan: plan))
                if fingerprint { run.fingerprints.before = FingerprintOutput("rows 1\n") }
                if differs { run.reasons = [.fingerprintDiffers] }
                return try await Self.finish(run, in: store, status: status)
            }
            let broken = try await finished(Self.plan, .failed, fingerprint: true, differs: true)
            let found = try #require(try await store.latestUnclearedFingerprintDifference(plan: "p", target: "copy", copy: 1, host: nil))
            #expect(found.id == broken.id && found.fingerprints.before?.text == "rows 1\n")
            #expect(try await store.latestUnclearedFingerprintDifference(plan: "q", target: "copy", copy: 1, host: nil) == nil)
            #expect(try await store.latestUnclearedFingerprintDifference(plan: "p", target: "copy", copy: 2, host: nil) == nil)
            #expect(try await store.latestUnclearedFingerprintDifference(plan: "p", target: "copy", copy: 1, host: "laptop-9") == nil)
            _ = try await finished(other, .passed, fingerprint: true)
            _ = try await finished(Self.plan, .passed, fingerprint: false)
            #expect(try await store.latestUnclearedFingerprintDifference(plan: "p", target: "copy", copy: 1, host: nil)?.id == broken.id)
            _ = try await finished(Self.plan, .overBudget, fingerprint: true)
            #expect(try await store.latestUnclearedFingerprintDifference(plan: "p", target: "copy", copy: 1, host: nil) == nil)
        }
    }

    @Test(arguments: HistoryBackend.available)
    func journalRoundTrip(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            let id = try await store.beginRun(Self.start(cut: .failAt("b"))).id
            let rowA = try await store.activityStarted(run: id, Activity(.forward, "a"), offset: .milliseconds(1))
            // While a is running, the journal already shows it.
            #expect(try await store.run(id: id)?.activities.map(\.status) == [.running])
            #expect(try await store.run(id: id)?.stillApplied == ["a"])
            try await store.activityFinished(run: id, row: rowA, Self.record(.forward, "a", 1, 5))
            try await store.activityFinished(run: id, row: nil, ActivityRecord(Activity(.forward, "b"), status: .injectedFailure))
            let trigger = RollbackTrigger(reason: .injected(step: "b"), offset: .milliseconds(7))
            try await store.rollbackTriggered(run: id, trigger)
            // One step's end and the next one's start in one write.
            let rowB = try #require(try await store.journal(run: id, finished: [], starting: Activity(.rollback, "b"), offset: .milliseconds(8)))
            let rowRollbackA = try await store.journal(run: id, finished: [(rowB, Self.record(.rollback, "b", 8, 2))],
                                                       starting: Activity(.rollback, "a"), offset: .milliseconds(10))
            _ = try await store.journal(run: id, finished: [(rowRollbackA, Self.record(.rollback, "a", 10, 2))], starting: nil, offset: .zero)
            var finished = try #require(try await store.run(id: id))
            finished.status = .passed
            finished.endedAt = Date()
            finished.forward = .milliseconds(5)
            finished.rollback = .milliseconds(5)
            finished.total = .milliseconds(12)
            finished.trigger = trigger
            finished.fingerprintBefore = "x"
            finished.fingerprintAfter = "x"
            try await store.finishRun(finished)

            let run = try #require(try await store.run(id: id))
            #expect(run.status == .passed)
            #expect(run.planName == "p")
            #expect(run.planText == HistoryStoreTests.planText)
            #expect(run.planHash == ContentHash.of(HistoryStoreTests.planText))
            #expect(run.gitCommit == "abc")
            #expect(run.failAt == "b")
            #expect(run.jobs == 4)
            #expect(run.budget == .seconds(10))
            #expect(run.rollback == .milliseconds(5))
            #expect(run.trigger == trigger)
            #expect(run.activities.map(\.name) == ["a", "b", "b", "a"])
            #expect(run.activities.map(\.status) == [.passed, .injectedFailure, .passed, .passed])
            #expect(run.activities[0].duration == .milliseconds(5))
            #expect(run.activities[0].exitStatus == 0)
            #expect(run.activities[0].outputTail == "tail")
            #expect(run.stillApplied.isEmpty)
            #expect(run.pid == getpid())
            #expect(run.uid?.count == 36)
            #expect(try await store.recentRuns().map(\.id) == [id])
        }
    }

    /// The run read back is the run written: every field, the coded trigger and reasons included.
    @Test(arguments: HistoryBackend.available)
    func aFinishedRunReadsBackExactlyAsWritten(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            var start = Self.start(cut: .before("b"))
            start.group = RunGroup(id: "abcd-1234", size: 2, shard: "1/2")
            start.inputHashes = ["../m.sql": "sha256:00"]
            start.copy = 3
            start.modes = ["round-trip", "twice"]
            var run = try await store.beginRun(start)
            let activities = [
                Self.record(.forward, "a", 1, 5),
                ActivityRecord(Activity(.forward, "b"), outcome: ProcessOutcome(termination: .signaled(9), timedOut: true, outputTail: "slow\nbut — sure ✓"),
                               startOffset: .milliseconds(6), duration: .milliseconds(40)),
                ActivityRecord(Activity(.rollback, "b"), outcome: ProcessOutcome(termination: .couldNotStart("its folder is gone")),
                               startOffset: .milliseconds(50), duration: .zero),
                ActivityRecord(Activity(.stop, "b"), outcome: ProcessOutcome(termination: .exited(0)), startOffset: .milliseconds(45), duration: .milliseconds(1)),
                ActivityRecord(Activity(.rollback, "a"), status: .blocked),
            ]
            for activity in activities { try await store.activityFinished(run: run.id, row: nil, activity) }
            run.activities = activities
            run.status = .failed
            run.endedAt = Run.recordedTime(Date())
            run.forward = .milliseconds(46)
            run.rollback = .milliseconds(3)
            run.total = .milliseconds(60)
            run.trigger = RollbackTrigger(reason: .stepFailed(step: "b"), offset: .milliseconds(46))
            run.reasons = [
                .stepFailed(step: "b", how: "timed out"), .rollbackFailed(step: "b", how: "could not start: its folder is gone"),
                .rollbackBlocked(step: "a"), .fingerprintDiffers, .leftApplied(steps: ["a", "b"]),
            ]
            run.leftApplied = ["a", "b"]
            run.strayProcesses = ["python3 server.py"]
            run.copyServices = ["postgres -D data"]
            run.fingerprintBefore = "before\n"
            run.fingerprintAfter = "after\n"
            run.logsFolder = folder.path + "/.rehearse/logs/1-abcd"
            try await store.finishRun(run)
            let read = try #require(try await store.run(id: run.id))
            #expect(read == run)
            #expect(try await store.groupRuns(prefix: "abcd-12").map(\.id) == [run.id])
            #expect(try await store.groupRuns(prefix: "ab").isEmpty)  // too short to mean one group
        }
    }

    /// A fingerprint kept in part keeps its size, digest and being in part. The one taken before
    /// is kept as soon as it is taken.
    @Test(arguments: HistoryBackend.available)
    func fingerprintsReadBackWithTheirDigests(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            var run = try await store.beginRun(Self.start())
            let before = FingerprintOutput(text: "row 1\n", digest: "sha256:aa", size: 3_000_000, isWhole: false)
            try await store.fingerprintTaken(run: run.id, before: before)
            #expect(try await store.run(id: run.id)?.fingerprints.before == before)
            let control = FingerprintOutput(text: "c\n", digest: "sha256:cc", size: 2, isWhole: true)
            try await store.fingerprintTaken(run: run.id, control: control)
            let stored = try #require(try await store.run(id: run.id))
            #expect(stored.fingerprints.before == before && stored.fingerprints.control == control)
            run.status = .passed
            run.endedAt = Run.recordedTime(Date())
            run.fingerprints = RunFingerprints(before: before, after: FingerprintOutput(text: "row 1\n", digest: "sha256:bb", size: 3_000_001, isWhole: false),
                                               control: control)
            try await store.finishRun(run)
            let read = try #require(try await store.run(id: run.id))
            #expect(read.fingerprints == run.fingerprints)
            #expect(read == run)
        }
    }

    /// What `history`, `compare`, `gate` and `recover` ask for.
    @Test(arguments: HistoryBackend.available)
    func queriesFindTheRunsTheyAreFor(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            let other = PlanParser().parse(HistoryStoreTests.planText, file: "/tmp/Rehearsals/q.yml", defaultName: "q").plan!
            let full = try await Self.finish(try await store.beginRun(Self.start()), in: store)
            let cut = try await Self.finish(try await store.beginRun(Self.start(cut: .failAt("b"))), in: store)
            let failed = try await Self.finish(try await store.beginRun(Self.start()), in: store, status: .failed)
            var leftover = try await store.beginRun(Self.start(plan: other))
            leftover.leftApplied = ["a"]
            leftover = try await Self.finish(leftover, in: store, status: .interrupted)
            let running = try await store.beginRun(Self.start())

            #expect(try await store.recentRuns().map(\.id) == [running.id, leftover.id, failed.id, cut.id, full.id])
            #expect(try await store.recentRuns(plan: "q", limit: 5).map(\.id) == [leftover.id])
            #expect(try await store.recentRuns(limit: 2).map(\.id) == [running.id, leftover.id])
            #expect(try await store.latestRunID() == running.id)
            #expect(try await store.latestRunID(plan: "q") == leftover.id)
            #expect(try await store.plansAndTargets().map { "\($0.plan)/\($0.target)" } == ["p/copy", "q/copy"])
            #expect(try await store.plansAndTargets(plan: "q").count == 1)
            #expect(try await store.finishedRuns(plan: "p", target: "copy", limit: 10).map(\.id) == [failed.id, cut.id, full.id])
            #expect(try await store.finishedRuns(plan: "p", target: "copy", before: failed.id, limit: 10).map(\.id) == [cut.id, full.id])
            #expect(try await store.finishedRuns(plan: "p", target: "copy", cut: .only(nil), limit: 10).map(\.id) == [failed.id, full.id])
            #expect(try await store.finishedRuns(plan: "p", target: "copy", cut: .only(.failAt("b")), limit: 10).map(\.id) == [cut.id])
            #expect(try await store.finishedRuns(plan: "p", target: "copy", passedOnly: true, limit: 1).map(\.id) == [cut.id])
            #expect(try await store.finishedRuns(plan: "p", target: "copy", limit: 10).first?.activities.isEmpty == true)
            #expect(try await store.runs(plan: "p", target: "copy").map(\.id) == [running.id, failed.id, cut.id, full.id])
            #expect(try await store.runs(plan: "p", target: "elsewhere").isEmpty)
            #expect(try await store.latestRecoverableRunID() == leftover.id)
            #expect(try await store.run(id: 999) == nil)
            let size = try await store.size()
            #expect(size.runs == 5 && size.bytes > 0)
        }
    }

    /// A run whose harness died is marked abandoned by the next store opened on the history; one
    /// whose harness lives is not.
    @Test(arguments: HistoryBackend.available)
    func aRunWhoseHarnessDiedIsMarkedAbandoned(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let location = try await backend.freshLocation(in: folder)
            var (alive, dead): (Int64, Int64) = (0, 0)
            do {
                let writer = try await Self.open(backend, at: location, in: folder)
                alive = try await writer.beginRun(Self.start()).id
                // A harness that is no longer a process of this host.
                dead = try await writer.beginRun(Self.start(pid: 999_999_999)).id
                _ = try await writer.activityStarted(run: dead, Activity(.forward, "a"), offset: .zero)
            }
            let store = try await Self.open(backend, at: location, in: folder)
            let abandoned = try await store.markAbandoned()
            #expect(abandoned.map(\.id) == [dead])
            #expect(abandoned.first?.processMark == "mark")
            #expect(try await store.run(id: alive)?.status == .running)
            let run = try #require(try await store.run(id: dead))
            #expect(run.status == .abandoned)
            #expect(run.activities.map(\.status) == [.inFlight])
            #expect(run.leftApplied == ["a"])
            #expect(try await store.latestRecoverableRunID() == dead)
            // Marking again finds nothing new.
            #expect(try await store.markAbandoned().isEmpty)
        }
    }

    /// A finished run taken over by another process (`go --finish`): once only.
    @Test(arguments: HistoryBackend.available)
    func aRunIsReopenedOnceAndReleased(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            let run = try await Self.finish(try await store.beginRun(Self.start()), in: store, status: .applied)
            let me = RunProvenance(host: "here", user: "u", pid: getpid(), toolVersion: "t", gitCommit: nil)
            #expect(try await store.reopenRun(run.id, expected: .applied, by: me))
            #expect(try await store.reopenRun(run.id, expected: .applied, by: me) == false)
            #expect(try await store.run(id: run.id)?.status == .running)
            try await store.releaseRun(run.id, status: .applied, host: run.host, pid: run.pid)
            let back = try #require(try await store.run(id: run.id))
            #expect(back.status == .applied && back.host == run.host && back.pid == run.pid)
            try await store.recordRecovery(run: run.id, stillApplied: ["b"])
            #expect(try await store.run(id: run.id)?.leftApplied == ["b"])
        }
    }

    /// Writers that open a new history at the same moment all succeed (one makes the schema).
    @Test(arguments: HistoryBackend.available)
    func manyOpenersOfANewHistoryAllSucceed(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let location = try await backend.freshLocation(in: folder)
            let results = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            let store = try await Self.open(backend, at: location, in: folder)
                            _ = try await store.beginRun(Self.start())
                            return nil
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(results.compactMap { $0 }.isEmpty, "\(results.compactMap { $0 })")
            #expect(try await Self.open(backend, at: location, in: folder).recentRuns().count == 8)
        }
    }

    /// 16 writers, each with its own connection, journaling whole runs at once: nothing is lost,
    /// no two runs or activities share a number.
    @Test(arguments: HistoryBackend.available)
    func sixteenConcurrentWritersLoseNothing(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let location = try await backend.freshLocation(in: folder)
            _ = try await Self.open(backend, at: location, in: folder)
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        let store = try await Self.open(backend, at: location, in: folder)
                        var run = try await store.beginRun(Self.start())
                        var row: Int64? = nil
                        for step in 0..<20 {
                            row = try await store.journal(run: run.id, finished: row.map { [($0, Self.record(.forward, "s\(step - 1)", step, 1))] } ?? [],
                                                          starting: Activity(.forward, "s\(step)"), offset: .milliseconds(step))
                        }
                        try await store.activityFinished(run: run.id, row: row, Self.record(.forward, "s19", 19, 1))
                        run.reasons = [.text("writer \(writer)")]
                        _ = try await Self.finish(run, in: store)
                        return run.id
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(Set(ids).count == 16)
            let store = try await Self.open(backend, at: location, in: folder)
            let runs = try await store.finishedRuns(plan: "p", target: "copy", limit: 100)
            #expect(runs.count == 16)
            #expect(runs.allSatisfy { $0.status == .passed && $0.activities.count == 20 && $0.activities.allSatisfy { $0.status == .passed } })
            #expect(Set(runs.compactMap { $0.reasons.first?.description }).count == 16)
            #expect(try await store.size().activities == 320)
        }
    }

    /// One run per target and copy: a second is refused naming the holder, waits when asked, and
    /// gets it once the first lets go; other targets and copies never wait.
    @Test(arguments: HistoryBackend.available)
    func targetLocksAreExclusivePerTargetAndCopy(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let location = try await backend.freshLocation(in: folder)
            let first = try await Self.open(backend, at: location, in: folder)
            let second = try await Self.open(backend, at: location, in: folder)
            let holder = TargetHolder(run: 7, plan: "p", host: "ci-4", pid: 4242, since: Run.recordedTime(Date()))
            let lease = try await first.lockTarget("copy", copy: 1, holder: holder, wait: .zero)
            await #expect {
                try await second.lockTarget("copy", copy: 1, holder: holder, wait: .zero)
            } throws: { error in
                guard case .busy(let target, let copy, let named, _)? = error as? TargetLock.Failure else { return false }
                return target == "copy" && copy == 1 && named == holder
            }
            let otherCopy = try await second.lockTarget("copy", copy: 2, holder: holder, wait: .zero)
            let otherTarget = try await second.lockTarget("staging", copy: 1, holder: holder, wait: .zero)
            otherCopy.release()
            otherTarget.release()
            let waiter = Task { try await second.lockTarget("copy", copy: 1, holder: holder, wait: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(300))
            lease.release()
            let taken = try await waiter.value
            #expect(taken.target == "copy")
            taken.release()
        }
    }

    /// Merging: a file's runs imported twice are added once; an export imports back whole.
    @Test(arguments: HistoryBackend.available)
    func importTwiceAddsOnceAndAnExportImportsBack(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let shard = try await SQLiteHistory(path: folder.path + "/shard.sqlite")
            var runs: [Run] = []
            for cut in [nil, Cut.failAt("b")] {
                var run = try await shard.beginRun(Self.start(cut: cut))
                try await shard.activityFinished(run: run.id, row: nil, Self.record(.forward, "a", 1, 5))
                run.activities = [Self.record(.forward, "a", 1, 5)]
                runs.append(try await Self.finish(run, in: shard))
            }
            _ = try await shard.beginRun(Self.start())  // still running there: left out
            let store = try await Self.open(backend, at: try await backend.freshLocation(in: folder), in: folder)
            _ = try await Self.finish(try await store.beginRun(Self.start()), in: store)
            #expect(try await store.importRuns(from: shard.path) == ImportSummary(added: 2, alreadyThere: 0, unfinished: 1))
            #expect(try await store.importRuns(from: shard.path) == ImportSummary(added: 0, alreadyThere: 2, unfinished: 1))
            let imported = try await store.finishedRuns(plan: "p", target: "copy", limit: 10)
            #expect(imported.count == 3)
            for run in runs {
                let found = try #require(imported.first { $0.uid == run.uid })
                #expect(found.activities == run.activities && found.cut == run.cut && found.planText == run.planText)
            }
            let exported = folder.path + "/export.sqlite"
            #expect(try await store.exportRuns(to: exported, since: nil).added == 3)
            await #expect(throws: HistoryError.self) { try await store.exportRuns(to: exported, since: nil) }
            let back = try await SQLiteHistory(path: folder.path + "/back.sqlite")
            #expect(try await back.importRuns(from: exported).added == 3)
            #expect(Set(try await back.recentRuns().compactMap(\.uid)) == Set(imported.compactMap(\.uid)))
        }
    }

    /// Two jobs merging the same shard at once (two processes, two sessions): one adds its runs,
    /// the other finds them there; neither fails, and nothing is added twice.
    @Test(arguments: HistoryBackend.available)
    func concurrentImportsOfOneFileAddItOnce(_ backend: HistoryBackend) async throws {
        try await TemporaryFolder.with { folder in
            let shard = try await SQLiteHistory(path: folder.path + "/shard.sqlite")
            for _ in 0..<40 { _ = try await Self.finish(try await shard.beginRun(Self.start()), in: shard) }
            let location = try await backend.freshLocation(in: folder)
            let first = try await Self.open(backend, at: location, in: folder)
            let second = try await Self.open(backend, at: location, in: folder)
            async let one = first.importRuns(from: shard.path)
            async let two = second.importRuns(from: shard.path)
            let summaries = try await [one, two]
            #expect(summaries.map(\.added).sorted() == [0, 40], "\(summaries)")
            #expect(summaries.map(\.alreadyThere).sorted() == [0, 40], "\(summaries)")
            #expect(try await first.size().runs == 40)
        }
    }
}
