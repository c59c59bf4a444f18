public import Foundation
public import RehearseRunner
import Synchronization

/// A clock that moves only when told: durations and offsets in a rehearsal driven by a
/// ``ScriptedExecutor`` are exactly the scripted ones, and no test waits for real time.
public final class ManualClock: RunClock {
    private let state: Mutex<(reading: Duration, date: Date)>

    public init(date: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        state = Mutex((.seconds(1000), date))
    }

    public var now: Duration { state.withLock { $0.reading } }
    public var date: Date { state.withLock { $0.date } }

    /// Waiting moves the clock: a watch of an hour passes at once.
    public func sleep(for duration: Duration) async {
        advance(by: duration)
    }

    /// Moves both the monotonic reading and the wall clock forward.
    public func advance(by duration: Duration) {
        state.withLock { state in
            state.reading += duration
            state.date = state.date.addingTimeInterval(duration.inSeconds)
        }
    }
}

extension Duration {
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
