import Foundation

/// Whether this machine lets a process make a cgroup (v2) under its own, as the harness does for
/// each run: tests of what the run's cgroup catches run only where it can exist.
public enum CgroupProbe {
    /// Where the cgroup2 hierarchy is mounted.
    public static let mountPoint: String? = {
        guard let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for fields in mountinfo.split(separator: "\n").map({ $0.split(separator: " ") }) {
            if let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count, fields[dash + 1] == "cgroup2", fields.count > 4 {
                return String(fields[4])
            }
        }
        return nil
    }()

    public static let canMakeCgroups: Bool = {
        guard let mountPoint, let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = own.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return false }
        let relative = String(line.dropFirst(3))
        let probe = (relative == "/" ? mountPoint : mountPoint + relative) + "/rehearse-probe-\(getpid())"
        guard mkdir(probe, 0o755) == 0 else { return false }
        rmdir(probe)
        return true
    }()

    /// The folder of the cgroup that a `0::PATH` line of `/proc/PID/cgroup` names.
    public static func folder(ofLine line: String) -> String? {
        guard let mountPoint, line.hasPrefix("0::") else { return nil }
        let relative = line.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)
        return relative == "/" ? mountPoint : mountPoint + relative
    }

    /// The folder of this process's own cgroup.
    public static var ownFolder: String? {
        guard let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = own.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        return folder(ofLine: String(line))
    }
}
