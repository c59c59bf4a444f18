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

    /// The longest `--kill-grace`: a command that ignores SIGTERM for longer is killed anyway,
    /// and a grace of hours would hold a rollback (and its budget) hostage.
    static let longestKillGrace = Duration.seconds(600)

    /// A `--kill-grace`: from zero (SIGKILL at once) to ten minutes.
    static func killGrace(_ text: String) throws -> Duration {
        let value = try duration(text)
        guard value <= longestKillGrace else {
            throw ValidationError("'\(text)' is longer than \(DurationText.compact(longestKillGrace)): a command that ignores SIGTERM that long is stuck, not stopping")
        }
        return value
    }

    /// `I/N`: the I-th of N slices.
    static func shard(_ text: String) throws -> Shard {
        guard let shard = Shard(text) else { throw ValidationError("'\(text)' is not a shard: write I/N with 1 <= I <= N, as in 2/4") }
        return shard
    }

    /// What `gate` requires: `rehearsal` or `every-cut`.
    static func requirement(_ text: String) throws -> GateDecision.Requirement {
        guard let value = GateDecision.Requirement(rawValue: text) else {
            throw ValidationError("'\(text)' is not a requirement: use \(GateDecision.Requirement.allCases.map(\.rawValue).joined(separator: " or "))")
        }
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
