import Foundation

/// Looks for live processes whose command line contains a token, to prove none survived.
public enum ProcessProbe {
    /// Processes (not zombies) whose command line contains `token`.
    public static func processes(matching token: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                  let raw = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")),
                  String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\0", with: " ").contains(token),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"),
                  stat[stat.index(after: close)...].split(separator: " ").first != "Z"
            else { return nil }
            return pid
        }
    }

    /// A token unlikely to appear in any other command line: `sleep 30.<random>` uses it.
    public static func uniqueSleepSeconds(_ seconds: Int = 30) -> String {
        "\(seconds).\(Int.random(in: 100_000...999_999))"
    }
}

extension ProcessProbe {
    /// Processes matching `token`, waited for up to `limit`: a process in the middle of an
    /// `exec` shows an empty command line for a moment, and on a loaded machine that moment is seen.
    public static func present(matching token: String, within limit: Duration = .seconds(3)) async -> [Int32] {
        let deadline = ContinuousClock.now + limit
        var found = processes(matching: token)
        while found.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            found = processes(matching: token)
        }
        return found
    }

    /// Processes matching `token` that are still alive after `limit`: a SIGKILL is delivered
    /// asynchronously, so a check right after sending it must give the kernel a moment.
    public static func survivors(matching token: String, within limit: Duration = .seconds(3)) async -> [Int32] {
        let deadline = ContinuousClock.now + limit
        var found = processes(matching: token)
        while !found.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            found = processes(matching: token)
        }
        return found
    }
}
