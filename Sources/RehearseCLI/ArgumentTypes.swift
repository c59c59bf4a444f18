import ArgumentParser
import RehearseCore

/// Typed option values, parsed once by swift-argument-parser: a bad value is a usage error
/// (exit 64) naming the option, on every command.
enum ArgumentTypes {
    /// `250ms`, `90s`, `4m`, `1h30m`.
    static func duration(_ text: String) throws -> Duration {
        do {
            return try DurationText.parse(text)
        } catch {
            throw ValidationError("\(error) (durations look like 250ms, 90s, 4m, 1h30m)")
        }
    }

    /// A duration above zero.
    static func positiveDuration(_ text: String) throws -> Duration {
        let value = try duration(text)
        guard value > .zero else { throw ValidationError("must be more than zero") }
        return value
    }

    /// One of the strategies the library knows.
    static func strategy(_ text: String) throws -> Strategy {
        guard let strategy = Strategy.named(text) else {
            throw ValidationError("unknown strategy '\(text)'; use one of \(Strategy.all.map(\.id).joined(separator: ", "))")
        }
        return strategy
    }
}
