import RehearseCore
import RehearseRunner
import RehearseStore
import Synchronization

/// Writes a run's events to the history as they happen: each activity's row before its command
/// starts (the runner awaits this), its outcome when it ends, the trigger, the verdict.
///
/// A write that fails mid-run does not stop the rehearsal (its rollback matters more than its
/// record): the first failure is reported once through `warn`, and the run goes on.
final class JournalRecorder: RunObserver {
    private struct State {
        var rows: [Activity: Int64] = [:]
        var failed = false
    }

    private let store: HistoryStore
    private let runID: Int64
    private let warn: @Sendable (String) -> Void
    private let state = Mutex(State())

    init(store: HistoryStore, runID: Int64, warn: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.runID = runID
        self.warn = warn
    }

    func handle(_ event: RunEvent) async {
        do throws(HistoryError) {
            switch event {
            case .runStarted:
                break
            case .activityStarted(let activity, let offset):
                let row = try await store.activityStarted(run: runID, activity, offset: offset)
                state.withLock { $0.rows[activity] = row }
            case .activityFinished(let record):
                let row = state.withLock { $0.rows.removeValue(forKey: record.activity) }
                try await store.activityFinished(run: runID, row: row, record)
            case .rollbackTriggered(let trigger):
                try await store.rollbackTriggered(run: runID, trigger)
            case .runFinished(let run):
                try await store.finishRun(run)
            }
        } catch {
            let first = state.withLock { state -> Bool in
                defer { state.failed = true }
                return !state.failed
            }
            if first {
                warn("cannot record run \(runID) in \(error.path): \(error.message); the rehearsal goes on unrecorded")
            }
        }
    }
}
