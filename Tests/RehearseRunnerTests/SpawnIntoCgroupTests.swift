import CProcessSpawn
import Foundation
import RehearseTestSupport
import Testing

/// Both ways a command gets into its run's cgroup put it there before it runs anything: created
/// in it (`clone3` with `CLONE_INTO_CGROUP`), and, where the kernel refuses that, joining it
/// between `vfork` and `exec` (writing `cgroup.procs`).
@Suite(.enabled(if: CgroupProbe.canMakeCgroups, "this machine lets no process make a cgroup under its own"))
struct SpawnIntoCgroupTests {
    /// Spawns `sh -c` writing its own cgroup line to `file`, and waits for it.
    func spawn(_ folder: TemporaryFolder, file: String, cgroupFolder: Int32, procs: Int32) async throws -> (error: Int32, joined: Int32) {
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup("grep '^0::' /proc/self/cgroup > \(file)"), nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0, pidfd: Int32 = -1, joined: Int32 = 0
        let error = rehearse_spawn("/bin/sh", argv, [nil], folder.path, 2, 2, cgroupFolder, procs, &pid, &pidfd, &joined)
        guard error == 0 else { return (error, joined) }
        var code: Int32 = 0, signaled: Int32 = 0
        while rehearse_reap(pidfd, pid, &code, &signaled) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        close(pidfd)
        #expect(code == 0 && signaled == 0)
        return (error, joined)
    }

    @Test(arguments: [true, false]) func aCommandRunsInTheCgroupFromItsFirstInstruction(created: Bool) async throws {
        try await TemporaryFolder.with { folder in
            let cgroup = try #require(CgroupProbe.ownFolder) + "/rehearse-spawn-test-\(getpid())-\(created)"
            #expect(mkdir(cgroup, 0o755) == 0)
            defer { rmdir(cgroup) }
            let directory = created ? open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1
            let procs = open(cgroup + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
            defer {
                if directory >= 0 { close(directory) }
                close(procs)
            }
            let result = try await spawn(folder, file: "where", cgroupFolder: directory, procs: procs)
            #expect(result.error == 0)
            #expect(result.joined == 1)
            #expect(CgroupProbe.folder(ofLine: try folder.read("where")) == cgroup)
        }
    }

    /// A start that fails inside the child (a missing folder) is reported as its errno, and
    /// leaves no process in the cgroup.
    @Test func aCommandThatCannotStartIsReportedAndLeavesNothing() async throws {
        try await TemporaryFolder.with { folder in
            let cgroup = try #require(CgroupProbe.ownFolder) + "/rehearse-spawn-fail-\(getpid())"
            #expect(mkdir(cgroup, 0o755) == 0)
            defer { rmdir(cgroup) }
            let directory = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            let procs = open(cgroup + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
            defer {
                close(directory)
                close(procs)
            }
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
            defer { free(argv[0]) }
            var pid: pid_t = 0, pidfd: Int32 = -1, joined: Int32 = 0
            let error = rehearse_spawn("/bin/true", argv, [nil], folder.path + "/missing", 2, 2, directory, procs, &pid, &pidfd, &joined)
            #expect(error == ENOENT)
            #expect(try String(contentsOfFile: cgroup + "/cgroup.procs", encoding: .utf8).isEmpty)
        }
    }
}
