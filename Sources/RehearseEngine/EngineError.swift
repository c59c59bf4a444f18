public import RehearseCore
public import RehearseStore

/// A fault that stops the engine: the history cannot be used, a folder cannot be made, a recorded
/// plan no longer parses, a request that should not run. Each is the harness's own fault (exit 70),
/// except ``Code/invalidPlan`` (65), ``Code/refused`` (a usage problem, 64) and ``Code/busy``
/// (another run holds the target: 75).
///
/// Like swift-subprocess's errors, a struct with a code, so that cases can grow.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        /// The history could not be opened, read or written.
        case history(HistoryError)
        /// A file or folder the run needs could not be made.
        case files
        /// A plan (the one recorded with a run, for `recover`) does not parse.
        case invalidPlan([Diagnostic], source: String)
        /// The request cannot run as asked (see ``RehearsalEngine/problems(_:_:)``): nothing ran.
        case refused([RunProblem])
        /// Another run holds the target's copy (``TargetLock``), and waiting did not free it:
        /// nothing ran. A temporary failure (exit 75).
        case busy(TargetLock.Failure)
    }

    public var code: Code
    public var message: String
    public var fix: String?

    public init(_ code: Code, message: String, fix: String? = nil) {
        self.code = code
        self.message = message
        self.fix = fix
    }

    static func history(_ error: HistoryError) -> EngineError {
        EngineError(.history(error), message: "\(error.path): \(error.message)", fix: error.remedy)
    }

    public var description: String {
        message + (fix.map { "\n  fix: \($0)" } ?? "")
    }
}
