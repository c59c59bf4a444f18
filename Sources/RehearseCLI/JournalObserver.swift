import Foundation
import RehearseCore
import RehearseRunner
import RehearseStore

/// Writes a run's events to the history as they happen: each activity's row before its command
/// starts (the runner awaits this), its outcome when it ends, the trigger, the verdict.
///
/// A write that fails mid-run does not stop the rehearsal (its rollback matters more than its
/// record): the first failure is reported once, and the run goes on.
final class JournalObserver: RunObserver {
    private let store: HistoryStore
    private let runID: Int64
    private let console: Console
    private let rows = LockedRows()

    init(store: HistoryStore, runID: Int64, console: Console) {
        self.store = store
        self.runID = runID
        self.console = console
    }

    func handle(_ event: RunEvent) async {
        do {
            switch event {
            case .runStarted:
                break
            case .activityStarted(let activity, let offset):
                let row = try store.activityStarted(run: runID, activity, offset: offset)
                rows.set(activity, row)
            case .activityFinished(let execution):
                try store.activityFinished(run: runID, row: rows.take(execution.activity), execution)
            case .rollbackTriggered(let trigger):
                try store.rollbackTriggered(run: runID, trigger)
            case .runFinished(let record):
                try store.finishRun(run: runID, record)
            }
        } catch {
            if rows.noteFailure() {
                console.err("warning: cannot record run \(runID) in \(error.path): \(error.message); the rehearsal goes on unrecorded")
            }
        }
    }
}

/// Activity → journal row id, shared by concurrently running steps.
private final class LockedRows: @unchecked Sendable {
    private var rows: [Activity: Int64] = [:]
    private var failed = false
    private let lock = NSLock()

    func set(_ activity: Activity, _ row: Int64) { lock.withLock { rows[activity] = row } }
    func take(_ activity: Activity) -> Int64? { lock.withLock { rows.removeValue(forKey: activity) } }
    /// True the first time only.
    func noteFailure() -> Bool { lock.withLock { defer { failed = true }; return !failed } }
}
