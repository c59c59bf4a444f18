import RehearseCore
public import RehearseRunner
public import RehearseStore

/// Opening a history the way every command must: refuse what cannot be used, then mark runs whose
/// harness died as abandoned and stop the processes their steps left running (a harness killed
/// with SIGKILL cannot do that itself).
///
/// Never for a live run or a run on a protected target: what their steps started may be the
/// service itself, and opening a history never touches such a target (`recover` with
/// `--approve` rolls them back).
public enum HistoryAccess {
    /// A run found abandoned on opening, and how many of its processes were stopped.
    public struct Reaped: Sendable {
        public var run: Int64
        public var stoppedProcesses: Int
    }

    /// Opens what `location` names (``HistoryLocation``): a history file, or a PostgreSQL URL whose
    /// runs keep their logs in `localFolder` (default: the current folder's `.rehearse`). With
    /// `create` false, a history that is not there yet is a ``HistoryError/Code/missing``.
    public static func open(
        _ location: String, localFolder: String? = nil, create: Bool = true, executor: any CommandExecutor = StandardExecutor.make()
    ) async throws(EngineError) -> (store: any HistoryStore, reaped: [Reaped]) {
        do throws(HistoryError) {
            let store = try await HistoryLocation(location).open(localFolder: localFolder ?? ".rehearse", create: create)
            return (store, try await reap(store, executor: executor))
        } catch {
            throw .history(error)
        }
    }

    /// Marks the runs whose harness died as abandoned, and stops what their steps left running.
    static func reap(_ store: any HistoryStore, executor: any CommandExecutor) async throws(HistoryError) -> [Reaped] {
        var reaped: [Reaped] = []
        for run in try await store.markAbandoned() {
            var stopped = 0
            if let mark = run.processMark, run.kind == .rehearsal, !run.protectedTarget {
                stopped = await executor.stopLeftovers(marked: mark, grace: .seconds(1)).count
                // The copy's servers run on (recover needs them), out of the cgroup the dead run made.
                _ = await executor.releaseCopyServices(marked: RehearsalOptions.copyMark(for: mark))
            }
            reaped.append(Reaped(run: run.id, stoppedProcesses: stopped))
        }
        return reaped
    }
}
