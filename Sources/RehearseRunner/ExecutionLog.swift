import Foundation
import RehearseCore

/// The executions of one run as they happen, forwarded to the observer in order, and the naming
/// of each command's log file.
actor ExecutionLog {
    private let observer: any RunObserver
    private let logsFolder: String
    private(set) var executions: [Execution] = []
    private var started: [Activity: Int] = [:]
    private var counter = 0

    init(observer: any RunObserver, logsFolder: String) {
        self.observer = observer
        self.logsFolder = logsFolder
    }

    /// A new log file path for an activity: `007-rollback-deploy-green.log`.
    func logFile(for activity: Activity, suffix: String = "log") -> String {
        counter += 1
        let safeName = String(activity.name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" }.prefix(60))
        let number = String(counter).count < 3 ? String(repeating: "0", count: 3 - String(counter).count) + String(counter) : String(counter)
        return logsFolder + "/\(number)-\(activity.kind.rawValue)-\(safeName).\(suffix)"
    }

    func emit(_ event: RunEvent) async {
        await observer.handle(event)
    }

    func activityStarted(_ activity: Activity, offset: Duration) async {
        started[activity] = executions.count
        executions.append(Execution(activity, status: .stopped))
        await observer.handle(.activityStarted(activity, offset: offset))
    }

    /// Records how an activity ended: in its started slot, or appended when it never started.
    func activityFinished(_ execution: Execution) async {
        if let index = started.removeValue(forKey: execution.activity) {
            executions[index] = execution
        } else {
            executions.append(execution)
        }
        await observer.handle(.activityFinished(execution))
    }
}
