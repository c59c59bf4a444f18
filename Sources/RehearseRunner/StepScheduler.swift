import HeapModule

/// Runs the nodes of a dependency graph as concurrent tasks: a node starts once every node it
/// waits for has succeeded, at most `jobs` at a time, and among ready nodes the one of highest
/// priority first.
struct StepScheduler: Sendable {
    enum NodeResult: Sendable { case succeeded, failed }

    /// What to do when a node fails.
    enum FailurePolicy: Sendable {
        /// Start nothing more and cancel the running nodes (forward steps: the rollback trigger).
        case stopEverything
        /// Never start the nodes that wait for it, directly or not; carry on with the rest (rollback).
        case blockWaiting
    }

    struct Outcome: Sendable {
        /// Nodes in the order they started.
        var started: [Int] = []
        var results: [Int: NodeResult] = [:]
        /// Nodes never started because a node they wait for failed (`blockWaiting`).
        var blocked: [Int] = []
        /// The first node to fail, and when.
        var firstFailure: Int?
        /// The clock's reading when it failed.
        var firstFailureReading: Duration?
    }

    var jobs: Int
    var clock: any RunClock = SystemClock()

    /// - Parameters:
    ///   - nodes: the nodes to run.
    ///   - waitsFor: for each node, the nodes among `nodes` that must succeed before it starts.
    ///   - priority: higher runs first when several are ready.
    ///   - failsWithoutRunning: a node to count as failed the moment it is ready, without running it.
    ///   - halted: true once a running node is known to be failing before it has ended (a step
    ///     past its timeout, being stopped): nothing more starts from then on.
    ///   - body: runs one node; it is cancelled when the run stops or the calling task is cancelled.
    func run(
        nodes: [Int], waitsFor: [Int: [Int]], priority: @escaping (Int) -> Int, policy: FailurePolicy,
        failsWithoutRunning: Int? = nil, halted: @escaping @Sendable () -> Bool = { false },
        body: @escaping @Sendable (Int) async -> NodeResult
    ) async -> Outcome {
        struct Ready: Comparable {
            var priority: Int
            var node: Int
            static func < (a: Ready, b: Ready) -> Bool { (a.priority, -a.node) < (b.priority, -b.node) }
        }
        var outcome = Outcome()
        var remaining: [Int: Int] = [:]
        var waiters: [Int: [Int]] = [:]
        var ready = Heap<Ready>()
        for node in nodes {
            let prerequisites = waitsFor[node] ?? []
            remaining[node] = prerequisites.count
            for prerequisite in prerequisites { waiters[prerequisite, default: []].append(node) }
            if prerequisites.isEmpty { ready.insert(Ready(priority: priority(node), node: node)) }
        }
        var blocked = Set<Int>()
        var stopping = false

        func noteFailure(_ node: Int) {
            guard outcome.firstFailure == nil else { return }
            outcome.firstFailure = node
            outcome.firstFailureReading = clock.now
        }

        func block(after failed: Int) {
            var pending = waiters[failed] ?? []
            while let node = pending.popLast() {
                if blocked.insert(node).inserted { pending += waiters[node] ?? [] }
            }
        }

        await withTaskGroup(of: (Int, NodeResult).self) { group in
            var running = 0
            var inline: (Int, NodeResult)?
            while true {
                while !stopping, running < max(1, jobs), !Task.isCancelled, !halted(), let next = ready.popMax() {
                    let node = next.node
                    if node == failsWithoutRunning {
                        outcome.results[node] = .failed
                        noteFailure(node)
                        if policy == .stopEverything {
                            stopping = true
                            group.cancelAll()
                        } else {
                            block(after: node)
                        }
                        continue
                    }
                    outcome.started.append(node)
                    running += 1
                    if running == 1, ready.isEmpty {
                        // Alone: nothing else runs and nothing can become ready before it ends
                        // (readiness comes only from endings), so it runs in this task: a chain
                        // of steps costs no child task and no hop back per step.
                        inline = (node, await body(node))
                        break
                    }
                    group.addTask { (node, await body(node)) }
                }
                let finished: (Int, NodeResult)?
                if let done = inline {
                    inline = nil
                    finished = done
                } else {
                    finished = running > 0 ? await group.next() : nil
                }
                guard let (node, result) = finished else { break }
                running -= 1
                outcome.results[node] = result
                switch (result, policy) {
                case (.failed, .stopEverything):
                    noteFailure(node)
                    stopping = true
                    group.cancelAll()
                case (.failed, .blockWaiting):
                    noteFailure(node)
                    block(after: node)
                case (.succeeded, _):
                    for waiter in waiters[node] ?? [] {
                        remaining[waiter, default: 0] -= 1
                        if remaining[waiter] == 0, !blocked.contains(waiter) {
                            ready.insert(Ready(priority: priority(waiter), node: waiter))
                        }
                    }
                }
            }
        }
        outcome.blocked = nodes.filter { blocked.contains($0) && outcome.results[$0] == nil }
        return outcome
    }
}
