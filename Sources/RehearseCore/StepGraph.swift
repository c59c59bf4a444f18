import HeapModule

/// The dependency graph of a plan's steps, and the orders a rehearsal follows through it.
///
/// Steps are addressed by their index in file order. Edges come from `needs`; a `needs` entry that
/// names no step is ignored here (validation reports it). Order is free only where the graph allows
/// it, and then file order decides, so the same plan always gives the same order.
public struct StepGraph: Sendable, Hashable {
    public let steps: [Step]
    /// For each step, the indices of the steps it needs (deduplicated, in file order of `needs`).
    public let needs: [[Int]]
    /// For each step, the indices of the steps that need it, ascending.
    public let dependents: [[Int]]
    private let indexByID: [String: Int]

    public init(steps: [Step]) {
        self.steps = steps
        var indexByID: [String: Int] = [:]
        for (index, step) in steps.enumerated() where indexByID[step.id] == nil {
            indexByID[step.id] = index
        }
        var needs: [[Int]] = []
        needs.reserveCapacity(steps.count)
        var dependents = Array(repeating: [Int](), count: steps.count)
        for (index, step) in steps.enumerated() {
            var seen = Set<Int>()
            var resolved: [Int] = []
            for id in step.needs {
                if let target = indexByID[id], seen.insert(target).inserted {
                    resolved.append(target)
                    dependents[target].append(index)
                }
            }
            needs.append(resolved)
        }
        self.needs = needs
        self.dependents = dependents
        self.indexByID = indexByID
    }

    public var count: Int { steps.count }

    public func index(of id: String) -> Int? { indexByID[id] }

    /// The ids of the steps at these indices, in the same order.
    public func ids<S: Sequence>(_ indices: S) -> [String] where S.Element == Int {
        indices.map { steps[$0].id }
    }

    // MARK: - Forward

    /// The order forward steps run in with one job: every step after all it needs, file order
    /// where free. Only steps in `subset` are listed (all steps when `nil`).
    public func forwardOrder(of subset: Set<Int>? = nil) -> [Int] {
        var remaining = needs.map(\.count)
        var ready = Heap<Int>()
        for index in 0..<count where remaining[index] == 0 { ready.insert(index) }
        var order: [Int] = []
        order.reserveCapacity(count)
        while let next = ready.popMin() {
            order.append(next)
            for dependent in dependents[next] {
                remaining[dependent] -= 1
                if remaining[dependent] == 0 { ready.insert(dependent) }
            }
        }
        guard let subset else { return order }
        return order.filter(subset.contains)
    }

    /// Steps grouped by depth: each group may run in parallel once every earlier group finished.
    public func forwardGroups(of subset: Set<Int>? = nil) -> [[Int]] {
        var depth = Array(repeating: 0, count: count)
        for index in forwardOrder() {
            let member = subset?.contains(index) ?? true
            let deepest = needs[index].map { depth[$0] }.max() ?? 0
            depth[index] = deepest + (member ? 1 : 0)
        }
        return groups(byLevel: depth, members: subset)
    }

    // MARK: - Rollback

    /// The order rollbacks run in with one job: a step's rollback only after the rollbacks of every
    /// step in `applied` that needs it (directly or through other steps); reverse file order where free.
    public func rollbackOrder(of applied: Set<Int>) -> [Int] {
        var remaining = dependents.map(\.count)
        var ready = Heap<Int>()
        for index in 0..<count where remaining[index] == 0 { ready.insert(index) }
        var order: [Int] = []
        while let next = ready.popMax() {
            if applied.contains(next) { order.append(next) }
            for need in needs[next] {
                remaining[need] -= 1
                if remaining[need] == 0 { ready.insert(need) }
            }
        }
        return order
    }

    /// Applied steps grouped for rollback: each group may roll back in parallel once every earlier
    /// group has rolled back.
    public func rollbackGroups(of applied: Set<Int>) -> [[Int]] {
        var level = Array(repeating: 0, count: count)
        for index in forwardOrder().reversed() {
            let deepest = dependents[index].map { level[$0] }.max() ?? 0
            level[index] = deepest + (applied.contains(index) ? 1 : 0)
        }
        return groups(byLevel: level, members: applied)
    }

    // MARK: - Point of no return

    /// Irreversible steps and every step that needs one of them, directly or not: what a rehearsal
    /// never runs.
    public func beyondPointOfNoReturn() -> Set<Int> {
        let irreversible = steps.indices.filter { steps[$0].isIrreversible }
        return descendants(of: irreversible, includingSelf: true)
    }

    /// Every step a rehearsal runs: all but those beyond the point of no return.
    public func rehearsable() -> Set<Int> {
        Set(steps.indices).subtracting(beyondPointOfNoReturn())
    }

    /// The steps that need any of `roots`, transitively.
    public func descendants<S: Sequence>(of roots: S, includingSelf: Bool = false) -> Set<Int> where S.Element == Int {
        walk(from: roots, along: dependents, includingSelf: includingSelf)
    }

    /// The steps any of `roots` needs, transitively.
    public func ancestors<S: Sequence>(of roots: S, includingSelf: Bool = false) -> Set<Int> where S.Element == Int {
        walk(from: roots, along: needs, includingSelf: includingSelf)
    }

    // MARK: - Critical path

    /// The heaviest chain of rollbacks among `applied` steps, in rollback order: the steps whose
    /// rollbacks must run one after another. `weight` is 1 per step with a rollback command by
    /// default, or measured durations in nanoseconds. Steps of weight zero are left out of the result.
    public func longestRollbackChain(of applied: Set<Int>, weight: ((Int) -> Int64)? = nil) -> [Int] {
        let weightOf: (Int) -> Int64 = weight ?? { steps[$0].rollbackCommand == nil ? 0 : 1 }
        // best[i]: the heaviest chain that ends with i's rollback (i rolls back last in it).
        var best = Array(repeating: Int64(0), count: count)
        var previous = Array(repeating: -1, count: count)
        for index in forwardOrder().reversed() {
            var heaviest: Int64 = 0
            for dependent in dependents[index] where best[dependent] > heaviest {
                heaviest = best[dependent]
                previous[index] = dependent
            }
            best[index] = heaviest + (applied.contains(index) ? weightOf(index) : 0)
        }
        guard let end = best.indices.max(by: { best[$0] < best[$1] || (best[$0] == best[$1] && $0 > $1) }),
              best[end] > 0 else { return [] }
        var chain: [Int] = []
        var cursor = end
        while cursor >= 0 {
            if applied.contains(cursor), weightOf(cursor) > 0 { chain.append(cursor) }
            cursor = previous[cursor]
        }
        return chain.reversed()
    }

    // MARK: - Cycles

    /// Every dependency cycle, one per strongly connected component, each as the steps in `needs`
    /// order: `[a, b]` means a needs b and b needs a. A step that needs itself is a cycle of one.
    public func cycles() -> [[Int]] {
        stronglyConnectedComponents().compactMap { component in
            if component.count == 1 {
                let only = component[0]
                return needs[only].contains(only) ? [only] : nil
            }
            return shortestCycle(through: component.min()!, within: Set(component))
        }.sorted { $0[0] < $1[0] }
    }

    /// Tarjan's algorithm without recursion, so that a 10,000-step chain cannot exhaust a stack.
    private func stronglyConnectedComponents() -> [[Int]] {
        var indexOf = Array(repeating: -1, count: count)
        var lowLink = Array(repeating: 0, count: count)
        var onStack = Array(repeating: false, count: count)
        var stack: [Int] = []
        var components: [[Int]] = []
        var nextIndex = 0
        for root in 0..<count where indexOf[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            indexOf[root] = nextIndex; lowLink[root] = nextIndex; nextIndex += 1
            stack.append(root); onStack[root] = true
            while let (node, edge) = work.last {
                if edge < needs[node].count {
                    work[work.count - 1].edge += 1
                    let next = needs[node][edge]
                    if indexOf[next] < 0 {
                        indexOf[next] = nextIndex; lowLink[next] = nextIndex; nextIndex += 1
                        stack.append(next); onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        lowLink[node] = min(lowLink[node], indexOf[next])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.node { lowLink[parent] = min(lowLink[parent], lowLink[node]) }
                if lowLink[node] == indexOf[node] {
                    var component: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component.append(member)
                        if member == node { break }
                    }
                    components.append(component)
                }
            }
        }
        return components
    }

    private func shortestCycle(through start: Int, within component: Set<Int>) -> [Int] {
        var cameFrom: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let node = queue[head]; head += 1
            for next in needs[node] where component.contains(next) {
                if next == start {
                    var path = [node]
                    while let back = cameFrom[path[path.count - 1]] { path.append(back) }
                    return path.reversed()
                }
                if cameFrom[next] == nil, next != start {
                    cameFrom[next] = node
                    queue.append(next)
                }
            }
        }
        return [start]
    }

    // MARK: - Helpers

    private func walk<S: Sequence>(from roots: S, along edges: [[Int]], includingSelf: Bool) -> Set<Int> where S.Element == Int {
        var seen = Set<Int>()
        var pending: [Int] = []
        for root in roots {
            if includingSelf { seen.insert(root) }
            pending.append(contentsOf: edges[root])
        }
        while let node = pending.popLast() {
            if seen.insert(node).inserted { pending.append(contentsOf: edges[node]) }
        }
        return seen
    }

    private func groups(byLevel level: [Int], members: Set<Int>?) -> [[Int]] {
        var byLevel: [Int: [Int]] = [:]
        for index in 0..<count where members?.contains(index) ?? true {
            byLevel[level[index], default: []].append(index)
        }
        return byLevel.keys.sorted().map { byLevel[$0]! }
    }
}
