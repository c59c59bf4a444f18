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
        let safeName = String(activity.name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" }.prefix(60))
        let digits = String(number)
        let padded = digits.count < 3 ? String(repeating: "0", count: 3 - digits.count) + digits : digits
        return logsFolder + "/\(padded)-\(activity.kind.rawValue)-\(safeName).\(suffix)"
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
