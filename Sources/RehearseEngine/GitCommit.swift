import Foundation

/// The commit a plan file's repository is at, for the history: read from `.git` directly (no
/// process to spawn), nil outside a repository or when it cannot be read.
public enum GitCommit {
    public static func current(for file: String) -> String? {
        var folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        while folder.path != "/" {
            let git = folder.appendingPathComponent(".git")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: git.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { return nil }  // a worktree or submodule file: not followed
                return resolve(gitFolder: git)
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }

    private static func resolve(gitFolder: URL) -> String? {
        guard let head = try? String(contentsOf: gitFolder.appendingPathComponent("HEAD"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        guard head.hasPrefix("ref: ") else { return head.count == 40 ? head : nil }
        let reference = String(head.dropFirst(5))
        if let loose = try? String(contentsOf: gitFolder.appendingPathComponent(reference), encoding: .utf8) {
            return loose.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let packed = (try? String(contentsOf: gitFolder.appendingPathComponent("packed-refs"), encoding: .utf8)) ?? ""
        for line in packed.split(separator: "\n") where line.hasSuffix(" " + reference) {
            return String(line.prefix(40))
        }
        return nil  // a new repository with no commit yet
    }
}
