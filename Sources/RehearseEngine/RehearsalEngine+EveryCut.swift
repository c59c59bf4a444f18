import Foundation
public import RehearseCore
public import RehearseRunner
public import RehearseStore

extension RehearsalEngine {
    /// What an every-cut rehearsal came to.
    public struct EveryCut: Sendable {
        /// The group its runs share in the history.
        public var group: RunGroup
        /// The cuts this shard had to rehearse, in order (`nil`: the full rehearsal).
        public var cuts: [Cut?]
        /// The runs that ran, in the order of `cuts` (fewer when interrupted or stopped by a fault).
        public var runs: [Run]
        /// The fault that stopped it early, if one did.
        public var fault: EngineError?

        /// True when every cut ran and passed: what the gate counts as an every-cut pass.
        public var passed: Bool { fault == nil && isComplete && runs.allSatisfy { $0.status == .passed } }

        /// Every cut ran (whatever its outcome).
        public var isComplete: Bool { runs.count == cuts.count }
    }

    /// Rehearses the rollback from every cut point of `plan` (``CutPoints/of(_:)``), each a run
    /// of its own from a fresh copy (the target's setup and teardown run for each), recorded as
    /// one group. Up to `copies` run at once, each on its own copy: every command of one sees
    /// `REHEARSE_COPY` (1…copies). A signal stops starting new cuts and rolls back the running
    /// ones; a fault (a run that cannot be recorded) stops starting new ones.
    ///
    /// - Parameter observer: the observer of the run of one cut on one copy.
    public func rehearseEveryCut(
        _ plan: Plan, _ request: RehearsalRequest, copies: Int = 1, shard: Shard? = nil, history: any HistoryStore,
        observer: @escaping @Sendable (_ cut: Cut?, _ copy: Int) -> any RunObserver = { _, _ in ObserverGroup([]) },
        control: RunControl = RunControl(), warn: @escaping @Sendable (String) -> Void = { _ in }
    ) async -> EveryCut {
        let cuts = CutPoints.of(plan, shard: shard)
        let group = RunGroup(id: UUID().uuidString.lowercased(), size: cuts.count, shard: shard?.description)
        var result = EveryCut(group: group, cuts: cuts, runs: [], fault: nil)
        if let refusal = refusal(plan, request, copies: copies) {
            result.fault = refusal
            return result
        }
        let content: PlanContent
        do throws(EngineError) {
            content = try self.content(of: plan)
        } catch {
            result.fault = error
            return result
        }
        var finished: [(position: Int, run: Run)] = []
        await withTaskGroup(of: (Int, Int, Result<Run, EngineError>).self) { tasks in
            var freeCopies = Array((1...max(1, min(copies, cuts.count))).reversed())
            var next = 0
            var stop = false
            while true {
                while !stop, next < cuts.count, !control.shouldStop, let copy = freeCopies.popLast() {
                    let position = next
                    next += 1
                    let cut = cuts[position]
                    tasks.addTask {
                        do throws(EngineError) {
                            let run = try await rehearseOne(
                                plan, request, cut: cut, group: group, copy: copy, content: content, history: history,
                                observer: observer(cut, copy), control: control, warn: warn)
                            return (position, copy, .success(run))
                        } catch {
                            return (position, copy, .failure(error))
                        }
                    }
                }
                guard let (position, copy, outcome) = await tasks.next() else { break }
                freeCopies.append(copy)
                switch outcome {
                case .success(let run):
                    finished.append((position, run))
                    if run.status == .interrupted { stop = true }
                case .failure(let error):
                    if result.fault == nil { result.fault = error }
                    stop = true
                }
            }
        }
        result.runs = finished.sorted { $0.position < $1.position }.map(\.run)
        return result
    }
}
