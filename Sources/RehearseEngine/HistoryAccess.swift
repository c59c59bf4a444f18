public import RehearseRunner
public import RehearseStore

/// Opening a history the way every command must: refuse what cannot be used, then mark runs whose
/// harness died as abandoned and stop the processes their steps left running (a harness killed
/// with SIGKILL cannot do that itself).
public enum HistoryAccess {
    /// A run found abandoned on opening, and how many of its processes were stopped.
    public struct Reaped: Sendable {
        public var run: Int64
        public var stoppedProcesses: Int
    }

    public static func open(
        _ path: String, executor: any CommandExecutor = StandardExecutor.make()
    ) async throws(EngineError) -> (store: HistoryStore, reaped: [Reaped]) {
        do throws(HistoryError) {
            let store = try await HistoryStore(path: path)
            var reaped: [Reaped] = []
            for run in try await store.markAbandoned() {
                var stopped = 0
                if let mark = run.processMark {
                    stopped = await executor.stopLeftovers(marked: mark, grace: .seconds(1)).count
                }
                reaped.append(Reaped(run: run.id, stoppedProcesses: stopped))
            }
            return (store, reaped)
        } catch {
            throw .history(error)
        }
    }
}
