public import Foundation

/// The repository's `Fixtures/` folder, found from this source file's place in the tree.
public enum Fixtures {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // RehearseTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("Fixtures", isDirectory: true)

    public static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    /// The `.yml` files in a folder under `Fixtures/`, sorted.
    public static func plans(in folder: String) -> [String] {
        let directory = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yml") }.sorted()
    }
}
