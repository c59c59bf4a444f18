public import Foundation
import Subprocess
import SystemPackage

/// The `rehearse` executable that `swift build` put beside the test bundle, run as a user would.
public enum RehearseBinary {
    /// What one run printed and how it ended.
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// The signal that ended the process, if one did.
        public var signal: Int32?

        init(_ termination: TerminationStatus, stdout: String, stderr: String) {
            switch termination {
            case .exited(let code): (status, signal) = (code, nil)
            case .signaled(let number): (status, signal) = (-1, number)
            }
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    public static var url: URL {
        let productsFolder: URL
        if let override = ProcessInfo.processInfo.environment["REHEARSE_BINARY"] {
            return URL(fileURLWithPath: override)
        }
        // The test bundle lives in the products folder (.build/debug/xxx.xctest on Linux).
        let bundle = Bundle.main.bundleURL
        productsFolder = bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle
        let candidate = productsFolder.appendingPathComponent("rehearse")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rehearse")
    }

    /// Runs `rehearse ARGUMENTS` in `folder` with stdin empty and output collected.
    ///
    /// `environment` adds to (or, with a nil value, removes from) the test process's environment;
    /// `NO_COLOR` is always set so output is plain unless a test removes it.
    public static func run(
        _ arguments: [String], in folder: String, environment: [String: String?] = [:]
    ) async throws -> Outcome {
        var changes: [Environment.Key: String?] = ["NO_COLOR": "1"]
        for (key, value) in environment { changes[Environment.Key(stringLiteral: key)] = value }
        let result = try await Subprocess.run(
            .path(.init(url.path)),
            arguments: Arguments(arguments),
            environment: .inherit.updating(changes),
            workingDirectory: .init(folder),
            input: .none,
            output: .string(limit: 16 * 1024 * 1024),
            error: .string(limit: 16 * 1024 * 1024)
        )
        return Outcome(result.terminationStatus, stdout: result.standardOutput, stderr: result.standardError)
    }
}

extension RehearseBinary {
    /// Runs `rehearse` and, for each `(file, signal)` in turn, waits until the file exists (a step
    /// saying it has started) and sends the signal; then collects what the run printed.
    public static func runInterrupted(
        _ arguments: [String], in folder: String, signals: [(whenExists: String, signal: Int32)],
        waitLimit: Duration = .seconds(20), environment: [String: String?] = [:]
    ) async throws -> Outcome {
        var changes: [Environment.Key: String?] = ["NO_COLOR": "1"]
        for (key, value) in environment { changes[Environment.Key(stringLiteral: key)] = value }
        let result = try await Subprocess.run(
            .path(.init(url.path)),
            arguments: Arguments(arguments),
            environment: .inherit.updating(changes),
            workingDirectory: .init(folder),
            input: .none,
            output: .string(limit: 16 * 1024 * 1024),
            error: .string(limit: 16 * 1024 * 1024)
        ) { execution in
            // On a thread of its own: the test process's cooperative threads may all be held by
            // other tests for a while (a CPU-bound one holds one for seconds), and a task polling
            // for the file would then wake up after the step had ended on its own.
            let sent: Result<Void, SubprocessError> = await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    for (file, number) in signals {
                        let deadline = ContinuousClock.now + waitLimit
                        while !FileManager.default.fileExists(atPath: file), ContinuousClock.now < deadline { usleep(5_000) }
                        do throws(SubprocessError) {
                            try execution.send(signal: Signal(rawValue: number))
                        } catch {
                            continuation.resume(returning: .failure(error))
                            return
                        }
                    }
                    continuation.resume(returning: .success(()))
                }
            }
            try sent.get()
        }
        return Outcome(result.terminationStatus, stdout: result.standardOutput, stderr: result.standardError)
    }
}
