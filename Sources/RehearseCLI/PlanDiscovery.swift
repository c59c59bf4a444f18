import Foundation

/// Finding plans: the `Rehearsals/` folder nearest the current folder, searching upward, and the
/// `.yml`/`.yaml` files directly inside it.
struct PlanDiscovery {
    static let folderName = "Rehearsals"

    var currentDirectory: String = FileManager.default.currentDirectoryPath

    /// The nearest `Rehearsals/` folder at or above the current folder.
    func rehearsalsFolder() -> URL? {
        var folder = URL(fileURLWithPath: currentDirectory, isDirectory: true).standardizedFileURL
        while true {
            let candidate = folder.appendingPathComponent(Self.folderName, isDirectory: true)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// The plan files in `folder`, sorted by name.
    func plans(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names
            .filter { ($0.hasSuffix(".yml") || $0.hasSuffix(".yaml")) && !$0.hasPrefix(".") }
            .sorted()
            .map { displayPath(folder.appendingPathComponent($0).path) }
    }

    /// The plans to work on: those named, or every plan in the nearest `Rehearsals/`.
    func resolve(_ named: [String]) throws(CLIError) -> [String] {
        if !named.isEmpty { return named }
        guard let folder = rehearsalsFolder() else {
            throw CLIError.usage(
                "no \(Self.folderName)/ folder in \(currentDirectory) or any folder above it",
                fix: "run 'rehearse init --strategy blue-green NAME' to write a first plan, or name plan files")
        }
        let plans = plans(in: folder)
        if plans.isEmpty {
            throw CLIError.usage(
                "\(displayPath(folder.path))/ holds no .yml plans",
                fix: "run 'rehearse init --strategy blue-green NAME' to write one")
        }
        return plans
    }

    /// `path` relative to the current folder when it lies below it, else as it is.
    func displayPath(_ path: String) -> String {
        let base = URL(fileURLWithPath: currentDirectory).standardizedFileURL.path
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        if full.hasPrefix(base + "/") { return String(full.dropFirst(base.count + 1)) }
        return full
    }
}
