import CProcessControl
import Foundation

/// Finds and stops processes that steps left running outside their process group.
///
/// A step that daemonises (`setsid`, double fork) escapes the group kill. With the harness a child
/// subreaper, such orphans are re-parented to the harness instead of init, so at the end of a run
/// they are found among the harness's own children and stopped: no process of a step outlives it.
enum ProcessJanitor {
    /// Asks the kernel to hand orphaned descendants to this process. Harmless to call again.
    static func adoptOrphans() {
        _ = rehearse_become_child_subreaper()
    }

    /// This process's children that it did not start itself: adopted orphans, with their command lines.
    static func adoptedChildren(excluding known: Set<pid_t> = []) -> [(pid: pid_t, command: String)] {
        let me = getpid()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [(pid_t, String)] = []
        for entry in entries {
            guard let pid = pid_t(entry), !known.contains(pid),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after the command name: state, ppid, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[1]) == me else { continue }
            if fields[0] == "Z" {
                var status: Int32 = 0
                waitpid(pid, &status, WNOHANG)  // already gone: just reap it
                continue
            }
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))) ?? Data()
            let command = String(decoding: raw, as: UTF8.self).split(separator: "\0").joined(separator: " ")
            found.append((pid, command.isEmpty ? "pid \(pid)" : command))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// Stops each process (its whole group when it leads one): SIGTERM, up to `grace`, SIGKILL; then reaps it.
    static func stop(_ pids: [pid_t], grace: Duration) async {
        guard !pids.isEmpty else { return }
        for pid in pids { signal(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        var alive = pids
        while !alive.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
            alive = alive.filter { !reap($0) }
        }
        for pid in alive { signal(pid, SIGKILL) }
        for pid in alive {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    private static func signal(_ pid: pid_t, _ number: Int32) {
        if getpgid(pid) == pid { kill(-pid, number) }
        kill(pid, number)
    }

    /// True when the process has exited (and is now reaped).
    private static func reap(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid || (result < 0 && errno == ECHILD)
    }
}
