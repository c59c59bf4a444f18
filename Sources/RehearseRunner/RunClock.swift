public import Foundation

/// The time a rehearsal reads: a monotonic reading for durations and offsets, and the wall clock
/// for the record. Injected, so that orchestration can be tested without waiting
/// (a test clock advances only when told).
public protocol RunClock: Sendable {
    /// A monotonic reading: only differences between two readings mean anything.
    var now: Duration { get }
    /// The wall-clock time, for when a run started and ended.
    var date: Date { get }
    /// Waits `duration` (a live run's watch between two rounds of smoke checks); returns early
    /// when the task is cancelled.
    func sleep(for duration: Duration) async
}

extension RunClock {
    public func sleep(for duration: Duration) async {
        try? await Task.sleep(for: duration)
    }
}

/// The machine's clocks: `ContinuousClock` (monotonic, counts suspended time) and `Date`.
public struct SystemClock: RunClock {
    /// One reference for every `SystemClock`, so readings of different instances compare.
    private static let reference = ContinuousClock.now

    public init() {}

    public var now: Duration { ContinuousClock.now - Self.reference }
    public var date: Date { Date() }
}
