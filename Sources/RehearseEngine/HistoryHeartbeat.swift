import RehearseCore
import RehearseRunner
import RehearseStore
import Synchronization

/// Keeps a run's hold on a shared history while it runs: every second it confirms the history's
/// session (``HistoryStore/confirmSession()``: a PostgreSQL history replaces a lost one, with its
/// locks), and it stops the run when that can no longer be had.
///
/// - Another harness holds what this run held (``HistoryError/Code/lost``): the run stops
///   everything, rollback included (``RunControl/abandon(_:)``), and leaves the copy to `recover`.
/// - No confirmation within the history's lease: the same (another host may soon count the run
///   gone); a go-live instead stops starting and rolls back (production's rollback is never cut
///   short). A server that does not answer for a moment is no fault by itself: the lease decides.
///
/// A file's history has no lease; its confirmation is free.
final class HistoryHeartbeat: Sendable {
    private struct State {
        var beat: Task<Void, Never>?
        var watchdog: Task<Void, Never>?
        /// When the session was last confirmed.
        var confirmed = ContinuousClock.now
    }

    private let store: any HistoryStore
    private let runID: Int64
    private let control: RunControl
    private let warn: @Sendable (String) -> Void
    private let state = Mutex(State())

    init(store: any HistoryStore, runID: Int64, control: RunControl, live: Bool, warn: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.runID = runID
        self.control = control
        self.warn = warn
        let watchdog = store.lease.map { lease in
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    guard let self, !Task.isCancelled, self.isBeating else { return }
                    guard ContinuousClock.now - self.state.withLock({ $0.confirmed }) > lease else { continue }
                    let why = "the history did not confirm this run's locks for \(lease.components.seconds)s"
                    if live {
                        self.control.fault("run \(self.runID): \(why)")
                    } else {
                        self.abandon("\(why): another harness may take the copy; the rollback is left to 'rehearse recover'")
                    }
                    return
                }
            }
        }
        let beat = Task { [weak self, store] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard !Task.isCancelled, self != nil else { return }
                do throws(HistoryError) {
                    try await store.confirmSession()
                    self?.state.withLock { $0.confirmed = .now }
                } catch {
                    guard let self, !Task.isCancelled else { return }
                    if error.code == .lost {
                        self.abandon("\(error.message): the rollback is left to 'rehearse recover'")
                        return
                    }
                }
            }
        }
        state.withLock { state in
            state.beat = beat
            state.watchdog = watchdog
        }
    }

    deinit { stop() }

    /// The run's end is being recorded: nothing more to confirm, and nothing stops it any more.
    func stop() {
        state.withLock { state in
            state.beat?.cancel()
            state.watchdog?.cancel()
        }
    }

    private var isBeating: Bool {
        state.withLock { $0.beat?.isCancelled == false }
    }

    /// Another harness may have the copy: stop everything, rollback included.
    private func abandon(_ why: String) {
        guard isBeating else { return }
        control.abandon("run \(runID) in \(store.location): \(why)")
        warn("run \(runID): \(why)")
    }
}
