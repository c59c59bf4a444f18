import Foundation

/// The processes a target's `setup` started and left running: the copy's own servers (its
/// database, its proxy). They belong to the copy, not to the run: stray cleanup never stops
/// them, and the target's `teardown` does.
///
/// The setup and teardown run with the copy's token (`REHEARSE_RUN_TOKEN=RUN-TOKEN-copy`) and,
/// where the machine allows cgroups, in a cgroup of their own (`rehearse-RUN-TOKEN-copy`), so that
/// what they start is found even when it rewrites its environment (nginx). At the end of the
/// run what is left is named, moved back to the harness's own cgroup (it keeps running) and the
/// copy's cgroup is removed.
public enum CopyServices {
    /// The copy's processes still running (their command lines), now released from the copy's cgroup.
    public static func release(marked token: String) async -> [String] {
        let cgroup = RunCgroup.existing(token: token)
        var pids = Set(ProcessJanitor.processes(marked: token).map(\.pid))
        for pid in cgroup?.members() ?? [] where pid != getpid() && ProcessJanitor.isLive(pid) { pids.insert(pid) }
        let running = pids.sorted().map(ProcessJanitor.commandLine)
        if let cgroup {
            // Left where it is when it cannot be moved (it keeps running either way).
            if cgroup.moveMembersToHarnessCgroup() { await cgroup.remove(waitingUpTo: .milliseconds(100)) }
        }
        return running
    }
}
