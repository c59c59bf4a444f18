import Foundation

/// A process as the journal names it: host, pid, and the pid's start time, so that a pid reused
/// after a reboot or a long time is not mistaken for the harness that wrote the row.
struct ProcessIdentity: Sendable, Hashable {
    var host: String
    var pid: Int32
    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot) and the boot id.
    var start: String

    static var current: ProcessIdentity {
        ProcessIdentity(host: ProcessInfo.processInfo.hostName, pid: getpid(), start: startMark(of: getpid()) ?? "")
    }

    /// Whether this process is still alive: same host, and a process with this pid that started at the same time.
    var isAlive: Bool {
        guard host == ProcessInfo.processInfo.hostName else { return true }  // cannot tell: assume alive
        guard let mark = Self.startMark(of: pid) else { return false }
        return start.isEmpty || mark == start
    }

    static func startMark(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, start time field 22, so index 19 here.
        guard fields.count > 19, fields[0] != "Z" else { return nil }
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return "\(boot):\(fields[19])"
    }
}
