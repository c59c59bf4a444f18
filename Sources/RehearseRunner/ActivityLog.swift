import Foundation
import RehearseCore

/// The activities of one run as they happen, forwarded to the observer in order, and the naming
/// of each command's log file.
///
/// A lock rather than an actor: this sits on the path between one step's end and the next one's
/// start, and an actor hop there costs more than the bookkeeping it guards.
final class ActivityLog: Sendable {
    private struct State {
        var records: [ActivityRecord] = []
        var started: [Activity: Int] = [:]
        var counter = 0
    }

    private let observer: any RunObserver
    private let logsFolder: String
    private let state = Locked(State())

    init(observer: any RunObserver, logsFolder: String) {
        self.observer = observer
        self.logsFolder = logsFolder
    }

    var records: [ActivityRecord] { state.value.records }

    /// A new log file path for an activity: `007-rollback-deploy-green.log`.
    func logFile(for activity: Activity, suffix: String = "log") -> String {
        let number = state.withLock { state -> Int in
            state.counter += 1
            return state.counter
        }
        // On bytes, not characters: this runs for every command.
        var safeName = [UInt8]()
        safeName.reserveCapacity(min(activity.name.utf8.count, 60))
        for byte in activity.name.utf8.prefix(60) {
            let keep = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
            safeName.append(keep ? byte : 0x2D)
        }
        let digits = String(number)
        let padded = digits.count < 3 ? String(repeating: "0", count: 3 - digits.count) + digits : digits
        return logsFolder + "/" + padded + "-" + activity.kind.rawValue + "-" + String(decoding: safeName, as: UTF8.self) + "." + suffix
    }

    func emit(_ event: RunEvent) async {
        await observer.handle(event)
    }

    func activityStarted(_ activity: Activity, offset: Duration) async {
        state.withLock { state in
            state.started[activity] = state.records.count
            state.records.append(ActivityRecord(activity, status: .running, startOffset: offset))
        }
        await observer.handle(.activityStarted(activity, offset: offset))
    }

    /// Records how an activity ended: in its started slot, or appended when it never started.
    func activityFinished(_ record: ActivityRecord) async {
        state.withLock { state in
            if let index = state.started.removeValue(forKey: record.activity) {
                state.records[index] = record
            } else {
                state.records.append(record)
            }
        }
        await observer.handle(.activityFinished(record))
    }
}
