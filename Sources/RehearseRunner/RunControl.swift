import Foundation

/// What the operator asked of a running rehearsal through signals: the first SIGINT or SIGTERM
/// stops the forward steps and rolls back; the second abandons the rollback.
///
/// The CLI feeds signals in with ``receive(signal:)``; the runner runs each stage under
/// ``cancellable(afterSignals:_:)``, which cancels the stage (and so stops its processes) once
/// that many signals have arrived.
public final class RunControl: Sendable {
    private struct State {
        var signals: [Int32] = []
        var firstReading: Duration?
        var fault: String?
        var faultReading: Duration?
        /// The harness gave up the rollback itself (it can no longer be sure the copy is its own).
        var abandoned = false
        var handlers: [UUID: (threshold: Int, cancel: @Sendable () -> Void)] = [:]
    }

    private let state = Locked(State())
    private let clock: Locked<any RunClock>

    /// - Parameter clock: read when the first signal arrives: the moment of the rollback trigger.
    public init(clock: any RunClock = SystemClock()) {
        self.clock = Locked(clock)
    }

    /// Reads `clock` from now on: a rehearsal makes its control read the clock it times with, so
    /// that the moment of an interruption and the run's offsets are on one clock.
    public func adopt(_ clock: any RunClock) {
        self.clock.withLock { $0 = clock }
    }

    /// Records a signal and cancels every stage that it ends.
    public func receive(signal: Int32) {
        let toCancel: [@Sendable () -> Void] = state.withLock { state in
            state.signals.append(signal)
            if state.firstReading == nil { state.firstReading = clock.value.now }
            let count = state.signals.count
            return state.handlers.values.filter { $0.threshold <= count }.map(\.cancel)
        }
        for cancel in toCancel { cancel() }
    }

    /// The harness cannot go on safely (its journal cannot be written): like a first signal, it
    /// stops the forward side (nothing more starts there) and the rollback runs; unlike one, it is
    /// the harness's own fault. Only the first fault is kept.
    public func fault(_ message: String) {
        let toCancel: [@Sendable () -> Void] = state.withLock { state in
            guard state.fault == nil else { return [] }
            state.fault = message
            state.faultReading = clock.value.now
            return state.handlers.values.filter { $0.threshold <= 1 }.map(\.cancel)
        }
        for cancel in toCancel { cancel() }
    }

    /// The harness can no longer be sure the copy is its own (a shared history's lease ran out,
    /// or another harness took its lock): like a second signal, it stops everything, rollback
    /// included, and leaves the copy for `rehearse recover`. A fault too (kept if the first).
    public func abandon(_ message: String) {
        let toCancel: [@Sendable () -> Void] = state.withLock { state in
            if state.fault == nil {
                state.fault = message
                state.faultReading = clock.value.now
            }
            guard !state.abandoned else { return [] }
            state.abandoned = true
            return state.handlers.values.filter { $0.threshold <= 2 }.map(\.cancel)
        }
        for cancel in toCancel { cancel() }
    }

    /// A signal came, or the harness stopped itself: start nothing more on the forward side.
    public var shouldStop: Bool { signalCount > 0 || faultMessage != nil }

    /// Why the harness stopped itself, if it did.
    public var faultMessage: String? { state.value.fault }

    /// When the fault happened, as a reading of the clock: the moment of its rollback trigger.
    public var faultReading: Duration? { state.value.faultReading }

    /// The first signal received, if any.
    public var firstSignal: Int32? { state.value.signals.first }

    /// When the first signal arrived, as a reading of the clock: the moment of an interruption's
    /// rollback trigger.
    public var firstSignalReading: Duration? { state.value.firstReading }

    public var signalCount: Int { state.value.signals.count }

    /// True once a second signal asked to abandon the rollback, or the harness did (``abandon(_:)``).
    public var isAbandoned: Bool { signalCount >= 2 || state.value.abandoned }

    /// Runs `body` as a task that is cancelled when `threshold` signals have arrived (at once if
    /// they already have).
    func cancellable<T: Sendable>(afterSignals threshold: Int, _ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let id = UUID()
        let alreadyDue = state.withLock { state -> Bool in
            state.handlers[id] = (threshold, { task.cancel() })
            return state.signals.count >= threshold || (threshold <= 1 && state.fault != nil) || (threshold <= 2 && state.abandoned)
        }
        if alreadyDue { task.cancel() }
        let result = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        state.withLock { _ = $0.handlers.removeValue(forKey: id) }
        return result
    }
}
