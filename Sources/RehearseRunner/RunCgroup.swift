import Foundation

/// A run's own cgroup (v2), where the machine allows one: every command the run starts is moved
/// into it as soon as it is spawned, and whatever it starts stays there, whatever it does to its
/// environment, its session or its process group (`setsid env -i …`, nginx rewriting its own
/// environment). At the end of the run everything still in it is stopped, as systemd's
/// `KillMode=control-group` does, and the cgroup is removed.
///
/// It lives under the harness's own cgroup, named `rehearse-TOKEN` after the run's
/// `REHEARSE_RUN_TOKEN`, so that `recover` (and the next command that finds the run abandoned)
/// finds what a killed harness left in it. Where no cgroup can be made (no cgroup2 mounted, no
/// permission to create one under the harness's cgroup, `REHEARSE_CGROUP=off`), the run's token
/// alone finds leftovers, as before.
///
/// A command is created in the cgroup (`clone3` with `CLONE_INTO_CGROUP`), or where the kernel
/// cannot do that, joins it in the child itself, between `vfork` and `exec`: nothing it starts is
/// ever outside it (moving it after the spawn loses a race: `/bin/sh` forks its first child
/// within a millisecond).
final class RunCgroup: Sendable {
    /// The folder of the cgroup, e.g. `/sys/fs/cgroup/user.slice/…/rehearse-TOKEN`.
    let path: String
    /// Its `cgroup.procs`, open for writing (close-on-exec): a new command writes itself into it
    /// before it runs anything (``CommandRunner``). -1 for a cgroup only found, to be stopped.
    let procs: Int32
    /// The cgroup's folder, open (close-on-exec): a new command is created in it (`clone3` with
    /// `CLONE_INTO_CGROUP`). -1 for a cgroup only found.
    let directory: Int32

    private init(path: String, procs: Int32 = -1, directory: Int32 = -1) {
        self.path = path
        self.procs = procs
        self.directory = directory
    }

    deinit {
        if procs >= 0 { close(procs) }
        if directory >= 0 { close(directory) }
    }

    /// Cgroups made by this harness, by run token; nil where none could be made.
    private static let made = Locked([String: RunCgroup?]())

    /// The cgroup for the run with `token`: made on first use (or found, when a killed harness
    /// left it), nil where the machine allows none.
    static func forRun(token: String) -> RunCgroup? {
        made.withLock { made in
            if let known = made[token] { return known }
            let cgroup = make(token: token)
            made[token] = cgroup
            return cgroup
        }
    }

    /// The run's cgroup if there is one: made by this harness, or left by one that died (found
    /// under this harness's cgroup, else anywhere in the hierarchy). Never makes one.
    static func existing(token: String) -> RunCgroup? {
        if let known = made.withLock({ $0[token] }) { return known }
        // Not `enabled`: what a run left in its cgroup is stopped even when new runs go without one.
        guard isSafeToken(token), let base = harnessCgroup else { return nil }
        let name = "rehearse-" + token
        if FileManager.default.fileExists(atPath: base + "/" + name + "/cgroup.procs") { return RunCgroup(path: base + "/" + name) }
        guard let root = cgroupRoot, let walker = FileManager.default.enumerator(atPath: root) else { return nil }
        while let relative = walker.nextObject() as? String {
            // Folders only, and not deep: a cgroup hierarchy is a few levels of slices and scopes.
            if walker.level > 8 || !(walker.fileAttributes?[.type] as? FileAttributeType == .typeDirectory) {
                walker.skipDescendants()
                continue
            }
            if relative.hasSuffix("/" + name) || relative == name { return RunCgroup(path: root + "/" + relative) }
        }
        return nil
    }

    /// Cgroups are used unless `REHEARSE_CGROUP=off`.
    static let enabled = ProcessInfo.processInfo.environment["REHEARSE_CGROUP"] != "off"

    /// A run token is a UUID; anything else (a tampered history) is never made into a path.
    static func isSafeToken(_ token: String) -> Bool {
        !token.isEmpty && token.count <= 64 && token.utf8.allSatisfy { $0 == 0x2D || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    private static func make(token: String) -> RunCgroup? {
        guard enabled, isSafeToken(token), let base = harnessCgroup else { return nil }
        let path = base + "/rehearse-" + token
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { return nil }
        let procs = open(path + "/cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard procs >= 0 else {
            rmdir(path)
            return nil
        }
        return RunCgroup(path: path, procs: procs, directory: open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW))
    }

    /// The harness's own cgroup as a folder: the cgroup2 mount point and the path
    /// `/proc/self/cgroup` gives on its `0::` line. Nil without a cgroup2 hierarchy.
    static let harnessCgroup: String? = {
        guard let mountPoint = cgroupRoot,
              let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = own.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        let relative = String(line.dropFirst(3))
        // A cgroup outside this namespace's view shows as `/..`: nothing to build on.
        guard !relative.contains("/..") else { return nil }
        return relative == "/" ? mountPoint : mountPoint + relative
    }()

    /// Where the cgroup2 hierarchy is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a
    /// hybrid machine), from `/proc/self/mountinfo`.
    static let cgroupRoot: String? = {
        guard let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        // Fields: id, parent, major:minor, root, mount point, options…, "-", type, source, options.
        for entry in mountinfo.split(separator: "\n") {
            let fields = entry.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2", fields.count > 4 else { continue }
            return fields[4].replacingOccurrences(of: "\\040", with: " ")
        }
        return nil
    }()

    /// A command could not join the cgroup (the kernel refused: a cgroup whose controllers forbid
    /// it, a read-only hierarchy): the run goes on without one, the cgroup removed when it is
    /// empty, and the token alone finds leftovers.
    func couldNotJoin() {
        if rmdir(path) == 0 || errno == ENOENT {
            Self.made.withLock { made in
                for (token, cgroup) in made where cgroup === self { made[token] = .some(nil) }
            }
        }
    }

    /// The processes in the cgroup now (any state), its descendants' included: a step may make
    /// cgroups under the run's (where it is allowed to) and move itself into one.
    func members() -> [pid_t] {
        subtree().flatMap { folder -> [pid_t] in
            guard let text = try? String(contentsOfFile: folder + "/cgroup.procs", encoding: .utf8) else { return [] }
            return text.split(separator: "\n").compactMap { pid_t($0) }
        }
    }

    /// The cgroup's folder and its descendants', deepest first (the order they can be removed in).
    func subtree() -> [String] {
        var folders: [String] = []
        func visit(_ folder: String, depth: Int) {
            // Not followed past 32 levels: the kernel's own limit is far deeper, a step's is not.
            if depth < 32, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
                for name in names.sorted() {
                    var status = stat()
                    let child = folder + "/" + name
                    if lstat(child, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { visit(child, depth: depth + 1) }
                }
            }
            folders.append(folder)
        }
        visit(path, depth: 0)
        return folders
    }

    /// Kills everything in the cgroup and its descendants at once (`cgroup.kill`, Linux 5.14),
    /// or each process where the kernel has no `cgroup.kill`.
    func killAll() {
        if !write("cgroup.kill", "1") {
            for pid in members() { kill(pid, SIGKILL) }
        }
    }

    /// Removes the cgroup and any a step made under it once they are empty (waiting up to
    /// `limit` for killed processes to go); it stays (and `recover` finds it) when something in
    /// it would not die.
    func remove(waitingUpTo limit: Duration = .seconds(1)) async {
        let deadline = ContinuousClock.now + limit
        while true {
            for folder in subtree().dropLast() { rmdir(folder) }
            if rmdir(path) == 0 || errno != EBUSY || ContinuousClock.now >= deadline { break }
            do { try await Task.sleep(for: .milliseconds(5)) } catch { break }
        }
        Self.made.withLock { made in
            for (token, cgroup) in made where cgroup === self { made[token] = nil }
        }
    }

    /// Moves every process of the cgroup (and of those under it) to the harness's own cgroup,
    /// where they run on as ordinary processes: the copy's servers at the end of a run. False
    /// when one could not be moved.
    func moveMembersToHarnessCgroup() -> Bool {
        guard let base = Self.harnessCgroup else { return false }
        let descriptor = open(base + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        // Again while some are left: a server forks as it is moved (postgres's backends).
        for _ in 0..<20 {
            let left = members()
            if left.isEmpty { return true }
            for pid in left {
                let bytes = Array(String(pid).utf8)
                let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                // (A process that ended meanwhile is no failure.)
                if written != bytes.count, errno != ESRCH { return false }
            }
        }
        return members().isEmpty
    }

    private func write(_ file: String, _ text: String) -> Bool {
        let descriptor = open(path + "/" + file, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) } == bytes.count
    }
}
