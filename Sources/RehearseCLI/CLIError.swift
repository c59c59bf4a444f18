import ArgumentParser
import RehearseEngine

/// A fault the CLI reports and exits on: what is wrong, what to do, and the exit code.
struct CLIError: Error, CustomStringConvertible {
    enum Kind {
        /// Exit 64: the command line asks for something that cannot be done as asked.
        case usage
        /// Exit 65: a plan is invalid (its diagnostics were already printed).
        case invalidPlan
        /// Exit 70: the harness's own fault.
        case `internal`
        /// Exit 75: a temporary failure (another run holds the target).
        case busy
    }

    var kind: Kind
    var message: String
    var fix: String?

    static func usage(_ message: String, fix: String? = nil) -> CLIError {
        CLIError(kind: .usage, message: message, fix: fix)
    }

    var exitCode: ExitCode {
        switch kind {
        case .usage: ExitCodes.usage
        case .invalidPlan: ExitCodes.invalidPlan
        case .internal: ExitCodes.internalError
        case .busy: ExitCodes.busy
        }
    }

    var description: String {
        "error: \(message)" + (fix.map { "\n  fix: \($0)" } ?? "")
    }
}

/// The exit codes of PRODUCT.md, in one place.
enum ExitCodes {
    static let passed = ExitCode(0)
    static let overBudget = ExitCode(1)
    static let failed = ExitCode(2)
    static let usage = ExitCode(64)
    static let invalidPlan = ExitCode(65)
    static let internalError = ExitCode(70)
    static let busy = ExitCode(75)
    static let hungUp = ExitCode(129)
    static let interrupted = ExitCode(130)
    static let terminated = ExitCode(143)
}

extension CLIError {
    /// A fault of the engine: the harness's own (70), or an invalid plan (65).
    init(_ error: EngineError) {
        switch error.code {
        case .invalidPlan: self.init(kind: .invalidPlan, message: error.message, fix: error.fix)
        case .refused: self.init(kind: .usage, message: error.message, fix: error.fix)
        case .busy: self.init(kind: .busy, message: error.message, fix: error.fix)
        case .history, .files: self.init(kind: .internal, message: error.message, fix: error.fix)
        }
    }

    /// A request that cannot run as asked (exit 64).
    init(_ problem: RunProblem, consequence: String) {
        self.init(kind: .usage, message: "\(problem.description): \(consequence)", fix: problem.fix)
    }
}
