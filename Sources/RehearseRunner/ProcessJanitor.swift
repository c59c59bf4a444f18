import Foundation

/// Finds and stops processes that a run's steps left running outside their process groups.
///
/// A step that daemonises (`setsid`, a double fork) escapes the group kill that follows it. Every
/// command of a run carries `REHEARSE_RUN_TOKEN` (unique to the run) in its environment and passes
/// it on to whatever it starts, so at the end of the run the leftovers are found by that mark in
/// `/proc/*/environ` and stopped: no process of a step outlives the run. (A process that scrubs
/// its whole environment is not found.)
enum ProcessJanitor {
    /// Live processes (not this one) whose environment holds `REHEARSE_RUN_TOKEN=token`, with their command lines.
    static func processes(marked token: String) -> [(pid: pid_t, command: String)] {
        let mark = Array("REHEARSE_RUN_TOKEN=\(token)".utf8)
        let me = getpid()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [(pid_t, String)] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != me,
                  let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/environ")),
                  environment.split(separator: 0).contains(where: { $0.elementsEqual(mark) }),
                  !isZombie(pid), !isDying(pid)
            else { continue }
            found.append((pid, commandLine(pid)))
        }
        return found.sorted { $0.0 < $1.0 }
    }

    /// A process's command line, arguments joined by spaces (`pid N` when it has none).
    static func commandLine(_ pid: pid_t) -> String {
        let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        let command = String(decoding: raw, as: UTF8.self).split(separator: "\0").joined(separator: " ")
        return command.isEmpty ? "pid \(pid)" : command
    }

    /// Runs, and is neither a zombie nor dying of a SIGKILL: a process that counts as left running.
    static func isLive(_ pid: pid_t) -> Bool {
        !isZombie(pid) && !isDying(pid)
    }

    /// True while the process exists and has not exited (a zombie awaiting its reaper has).
    static func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 && !isZombie(pid)
    }

    /// True while some member of process group `group` runs: not a zombie (an orphan that PID 1
    /// has not reaped yet, which in a container may be never), and not already on its way out
    /// with a SIGKILL pending.
    static func groupHasLiveMembers(_ group: pid_t) -> Bool {
        guard kill(-group, 0) == 0 else { return false }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return true }
        for entry in entries {
            guard let pid = pid_t(entry), let fields = statFields(pid) else { continue }
            // State is field 3 of /proc/PID/stat, the process group field 5.
            guard fields.count > 2, pid_t(fields[2]) == group, fields[0] != "Z", !isDying(pid) else { continue }
            return true
        }
        return false
    }

    /// A SIGKILL is pending: the process is on its way out and is no stray.
    static func isDying(_ pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        for line in status.split(separator: "\n") where line.hasPrefix("ShdPnd:") || line.hasPrefix("SigPnd:") {
            if let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16), mask & (1 << (UInt64(SIGKILL) - 1)) != 0 {
                return true
            }
        }
        return false
    }

    private static func isZombie(_ pid: pid_t) -> Bool {
        guard let fields = statFields(pid) else { return true }  // gone
        return fields.first == "Z"
    }

    /// The fields of `/proc/PID/stat` after the command name (which may hold spaces and
    /// parentheses): the state first. Nil when the process is gone.
    private static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }
}

/// Stopping what a run's steps left running: at the end of a rehearsal, and when a run whose
/// harness died is found and its steps may still be running.
public enum StrayProcesses {
    /// Stops every process of the run: those in its cgroup (``RunCgroup``, where the machine has
    /// one) and those carrying `REHEARSE_RUN_TOKEN=token` (SIGTERM, up to `grace`, then SIGKILL,
    /// the cgroup as a whole), removes the cgroup, and returns their command lines. A process only
    /// the cgroup found (it dropped the token from its environment) and a marked one outside the
    /// cgroup (it left it) say so. Suspends (never blocks a thread) for at most `grace` and a second.
    public static func stop(marked token: String, grace: Duration = .seconds(1)) async -> [String] {
        let cgroup = RunCgroup.existing(token: token)
        let marked = ProcessJanitor.processes(marked: token)
        let inCgroup = Set(cgroup?.members() ?? [])
        var found = marked.map { process in
            (pid: process.pid, command: cgroup == nil || inCgroup.contains(process.pid)
                ? process.command : process.command + " (outside the run's cgroup)")
        }
        let markedPIDs = Set(marked.map(\.pid))
        for pid in inCgroup.sorted() where !markedPIDs.contains(pid) && pid != getpid() && ProcessJanitor.isLive(pid) {
            found.append((pid, ProcessJanitor.commandLine(pid) + " (found by the run's cgroup: it had dropped REHEARSE_RUN_TOKEN)"))
        }
        guard !found.isEmpty else {
            // What is still dying in it (or hid from the search) goes with the cgroup.
            if let cgroup, !cgroup.members().isEmpty { cgroup.killAll() }
            await cgroup?.remove()
            return []
        }
        for process in found { kill(process.pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        var alive = found.map(\.pid)
        while !alive.isEmpty, ContinuousClock.now < deadline {
            // Cancelled: no more waiting, straight to SIGKILL.
            do { try await Task.sleep(for: .milliseconds(10)) } catch { break }
            alive = alive.filter(ProcessJanitor.isRunning)
        }
        for pid in alive { kill(pid, SIGKILL) }
        // And whatever joined the cgroup meanwhile (a fork of a dying daemon).
        cgroup?.killAll()
        await cgroup?.remove()
        return found.map(\.command)
    }
}
