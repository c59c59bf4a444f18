import RehearseCore
import RehearseRunner
import RehearseStore
import Synchronization

/// Writes a run's events to the history as they happen: each activity's row before its command
/// starts (the runner awaits this), its outcome, the trigger, the verdict.
///
/// How an activity ended is written together with the next activity's start (or the trigger, or
/// the verdict): one commit per command instead of two. A harness killed in between leaves that
/// activity `running`, which the next `rehearse` marks in flight: a forward step counts as applied
/// either way, and a rollback counts as not done, as it would if the kill had come a moment
/// earlier. A rollback that ends while other commands still run is written at once, so that
/// window stays as short as the gap between two commands. No step that may have been applied is
/// ever missing from the journal.
///
/// Fail closed: no command starts unless its start is in the journal. A write that fails mid-run
/// is a fault of the harness handed to the run's ``RunControl``: the command whose start could not
/// be written does not run, nothing more starts on the forward side, and what was applied is
/// rolled back (its rollback matters more than its record; what can still be written is). The
/// first failure is reported once through `warn`.
final class JournalRecorder: RunObserver {
    private struct State {
        var rows: [Activity: Int64] = [:]
        /// Finished activities not yet written.
        var pending: [(row: Int64?, record: ActivityRecord)] = []
        /// Activities started and not finished.
        var running: Set<Activity> = []
        var failed = false
    }

    private let store: any HistoryStore
    /// Who sees the run's events once they are journaled (the progress printer, the reports).
    private let next: any RunObserver
    private let runID: Int64
    private let warn: @Sendable (String) -> Void
    private let control: RunControl
    private let state = Mutex(State())
    /// Keeps the run's hold on a shared history while it runs.
    private let heartbeat: HistoryHeartbeat

    /// - Parameter live: a go-live's run: its lease running out stops what starts, not its rollback.
    init(store: any HistoryStore, runID: Int64, control: RunControl, next: any RunObserver = ObserverGroup([]), live: Bool = false,
         warn: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.next = next
        self.runID = runID
        self.control = control
        self.warn = warn
        heartbeat = HistoryHeartbeat(store: store, runID: runID, control: control, live: live, warn: warn)
    }

    /// Journals `event`, then hands it to `next` (a run's end as recorded: one whose journal could
    /// not be written in full is no pass, on the terminal and in every report either).
    func handle(_ event: RunEvent) async {
        await record(event)
        if case .runFinished(var run) = event {
            run.claimNoPass(unrecorded: control.faultMessage)
            await next.handle(.runFinished(run))
        } else {
            await next.handle(event)
        }
    }

    private func record(_ event: RunEvent) async {
        do throws(HistoryError) {
            switch event {
            case .runStarted:
                break
            case .activityStarted(let activity, let offset):
                // Counted as running from now: a rollback that ends while this start is being
                // written sees it, and is written at once.
                let finished = state.withLock { state in
                    state.running.insert(activity)
                    defer { state.pending.removeAll() }
                    return state.pending
                }
                do throws(HistoryError) {
                    let row = try await store.journal(run: runID, finished: finished, starting: activity, offset: offset)
                    state.withLock { $0.rows[activity] = row }
                } catch {
                    state.withLock { $0.pending.insert(contentsOf: finished, at: 0) }
                    throw error
                }
            case .activityFinished(let record):
                let othersRunning = state.withLock { state -> Bool in
                    let row = state.rows.removeValue(forKey: record.activity)
                    state.running.remove(record.activity)
                    state.pending.append((row, record))
                    return !state.running.isEmpty
                }
                // A rollback's end decides what `recover` would run again: when other commands
                // still run (the next start may be far off), it is written now.
                if record.kind == .rollback, othersRunning { try await flush() }
            case .rollbackTriggered(let trigger):
                try await flush()
                try await store.rollbackTriggered(run: runID, trigger)
            case .fingerprintTaken(let before):
                try await flush()
                try await store.fingerprintTaken(run: runID, before: before)
            case .controlFingerprintTaken(let control):
                try await flush()
                try await store.fingerprintTaken(run: runID, control: control)
            case .runFinished(var run):
                heartbeat.stop()
                // The verdict is written even when what came before it could not be (a shared
                // history's session replaced meanwhile), then what is still pending, once more.
                var unwritten: HistoryError?
                do throws(HistoryError) { try await flush() } catch { unwritten = error }
                if let unwritten { noteFailure(unwritten) }
                // A run part of whose journal could not be written claims no pass.
                run.claimNoPass(unrecorded: control.faultMessage)
                try await store.finishRun(run)
                if unwritten != nil { try await flush() }
            }
        } catch {
            noteFailure(error)
        }
    }

    private func takePending() -> [(row: Int64?, record: ActivityRecord)] {
        state.withLock { state in
            defer { state.pending.removeAll() }
            return state.pending
        }
    }

    private func flush() async throws(HistoryError) {
        let finished = takePending()
        guard !finished.isEmpty else { return }
        do throws(HistoryError) {
            _ = try await store.journal(run: runID, finished: finished, starting: nil, offset: .zero)
        } catch {
            state.withLock { $0.pending.insert(contentsOf: finished, at: 0) }
            throw error
        }
    }

    /// Writes what is still pending: for callers whose run emits no `runFinished` (a recovery).
    func finish() async {
        heartbeat.stop()
        do throws(HistoryError) {
            try await flush()
        } catch {
            noteFailure(error)
        }
    }

    private func noteFailure(_ error: HistoryError) {
        // A lost lock on any write: another harness has the copy.
        if error.code == .lost {
            control.abandon("cannot write run \(runID) to \(error.path): \(error.message)")
        }
        let first = state.withLock { state -> Bool in
            defer { state.failed = true }
            return !state.failed
        }
        // Before the command whose start this was returns to the runner: it never runs.
        control.fault("cannot write run \(runID) to \(error.path): \(error.message)")
        if first {
            warn("cannot record run \(runID) in \(error.path): \(error.message); nothing more starts, and what was applied is rolled back")
        }
    }
}
