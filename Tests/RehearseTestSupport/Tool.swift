import Foundation
import Subprocess

/// Another program the tests use (xmllint), found on PATH.
public enum Tool {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    /// Runs `name ARGUMENTS`; nil when the program is not installed.
    public static func run(_ name: String, _ arguments: [String]) async throws -> Result? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard paths.contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }) else { return nil }
        let result = try await Subprocess.run(
            .name(name), arguments: Arguments(arguments), input: .none,
            output: .string(limit: 4 * 1024 * 1024), error: .string(limit: 4 * 1024 * 1024))
        var status: Int32 = -1
        if case .exited(let code) = result.terminationStatus { status = code }
        return Result(status: status, output: result.standardOutput + result.standardError)
    }
}
