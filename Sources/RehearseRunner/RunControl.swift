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

    /// The first signal received, if any.
    public var firstSignal: Int32? { state.value.signals.first }

    /// When the first signal arrived, as a reading of the clock: the moment of an interruption's
    /// rollback trigger.
    public var firstSignalReading: Duration? { state.value.firstReading }

    public var signalCount: Int { state.value.signals.count }

    /// True once a second signal asked to abandon the rollback.
    public var isAbandoned: Bool { signalCount >= 2 }

    /// Runs `body` as a task that is cancelled when `threshold` signals have arrived (at once if
    /// they already have).
    func cancellable<T: Sendable>(afterSignals threshold: Int, _ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let id = UUID()
        let alreadyDue = state.withLock { state -> Bool in
            state.handlers[id] = (threshold, { task.cancel() })
            return state.signals.count >= threshold
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
