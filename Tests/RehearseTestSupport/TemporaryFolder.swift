public import Foundation

/// A folder of its own for one test, removed when the test's body returns.
public struct TemporaryFolder: Sendable {
    public let url: URL

    public var path: String { url.path }

    private init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rehearse-tests-\(UUID().uuidString)", isDirectory: true)
            .resolvingSymlinksInPath()
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Runs `body` with a new empty folder, then removes the folder and everything in it.
    public static func with<T>(_ body: (TemporaryFolder) async throws -> T) async throws -> T {
        let folder = try TemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder.url) }
        return try await body(folder)
    }

    /// Writes `text` to `relativePath`, creating folders as needed; returns the file's full path.
    @discardableResult
    public func write(_ relativePath: String, _ text: String, executable: Bool = false) throws -> String {
        let file = url.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        if executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
        }
        return file.path
    }

    public func read(_ relativePath: String) throws -> String {
        try String(contentsOf: url.appendingPathComponent(relativePath), encoding: .utf8)
    }

    public func exists(_ relativePath: String) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent(relativePath).path)
    }
}
