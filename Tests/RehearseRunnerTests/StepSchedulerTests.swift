@testable import RehearseRunner
import RehearseTestSupport
import Testing

@Suite struct StepSchedulerTests {
    /// Counts how many bodies run at once, and the order they start in.
    final class Recorder: Sendable {
        let state = Locked((running: 0, peak: 0, order: [Int]()))
        func enter(_ node: Int) { state.withLock { $0.running += 1; $0.peak = max($0.peak, $0.running); $0.order.append(node) } }
        func leave() { state.withLock { $0.running -= 1 } }
    }

    /// Deterministic: each body waits until `jobs` bodies are in flight together, which can only
    /// happen if the scheduler starts that many at once; the peak proves it never starts more.
    @Test(arguments: [1, 2, 3])
    func runsExactlyJobsAtOnce(jobs: Int) async {
        let recorder = Recorder()
        let nodes = Array(0..<6)
        let outcome = await StepScheduler(jobs: jobs).run(nodes: nodes, waitsFor: [:], priority: { -$0 }, policy: .stopEverything) { node in
            recorder.enter(node)
            while recorder.state.value.running < jobs, recorder.state.value.order.count < nodes.count {
                try? await Task.sleep(for: .milliseconds(1))
            }
            recorder.leave()
            return .succeeded
        }
        #expect(outcome.started.count == 6)
        #expect(recorder.state.value.peak == jobs)
        #expect(outcome.started == nodes)
    }

    @Test func waitsForPrerequisites() async {
        let recorder = Recorder()
        // 2 waits for 0 and 1; 3 waits for 2.
        _ = await StepScheduler(jobs: 4).run(nodes: [0, 1, 2, 3], waitsFor: [2: [0, 1], 3: [2]], priority: { -$0 }, policy: .stopEverything) { node in
            recorder.enter(node)
            try? await Task.sleep(for: .milliseconds(5))
            recorder.leave()
            return .succeeded
        }
        let order = recorder.state.value.order
        #expect(Set(order.prefix(2)) == [0, 1])
        #expect(Array(order.suffix(2)) == [2, 3])
    }

    /// Node 1 runs until cancelled; it returns only when the scheduler cancels it after node 0
    /// fails (were cancellation missing, the test would hit its time limit, not pass).
    @Test(.timeLimit(.minutes(1)))
    func stopEverythingCancelsRunningNodesAndStartsNoMore() async {
        let cancelled = Locked(false)
        let outcome = await StepScheduler(jobs: 2).run(nodes: [0, 1, 2], waitsFor: [2: [1]], priority: { -$0 }, policy: .stopEverything) { node in
            if node == 0 { return .failed }
            try? await Task.sleep(for: .seconds(3600))
            cancelled.withLock { $0 = Task.isCancelled }
            return .failed
        }
        #expect(cancelled.value)
        #expect(outcome.firstFailure == 0)
        #expect(outcome.started == [0, 1])
        #expect(outcome.results[2] == nil)
    }

    @Test func theFirstFailureIsReadOnTheInjectedClock() async {
        let clock = ManualClock()
        clock.advance(by: .seconds(5))
        let outcome = await StepScheduler(jobs: 1, clock: clock).run(nodes: [0], waitsFor: [:], priority: { $0 }, policy: .stopEverything) { _ in
            .failed
        }
        #expect(outcome.firstFailureReading == clock.now)
    }

    @Test func blockWaitingSkipsOnlyWhatDependsOnTheFailure() async {
        // Rollback shape: 0 and 1 wait for 2 (2 rolls back first), 3 is independent.
        let outcome = await StepScheduler(jobs: 1).run(nodes: [2, 3, 0, 1], waitsFor: [0: [2], 1: [0]], priority: { $0 }, policy: .blockWaiting) { node in
            node == 2 ? .failed : .succeeded
        }
        #expect(Set(outcome.blocked) == [0, 1])
        #expect(outcome.results[3] == .succeeded)
    }

    @Test func aNodeCanFailWithoutRunning() async {
        let ran = Locked([Int]())
        let outcome = await StepScheduler(jobs: 1).run(
            nodes: [0, 1, 2], waitsFor: [1: [0], 2: [1]], priority: { -$0 }, policy: .stopEverything, failsWithoutRunning: 1
        ) { node in
            ran.withLock { $0.append(node) }
            return .succeeded
        }
        #expect(ran.value == [0])
        #expect(outcome.firstFailure == 1)
        #expect(outcome.started == [0])
    }
}
