import Foundation
public import RehearseCore

/// `--json` for `history`, `show` and `compare`: durations are integer nanoseconds (`*_ns`), times
/// are ISO 8601 in UTC, and every document carries `schema_version`.
public enum HistoryJSON {
    public static let schemaVersion = 1

    public static func runs(_ runs: [Run]) -> String {
        encode(RunsDocument(schemaVersion: schemaVersion, runs: runs.map { RunJSON($0, complete: false) }))
    }

    public static func run(_ run: Run) -> String {
        encode(RunDocument(schemaVersion: schemaVersion, run: RunJSON(run, complete: true)))
    }

    /// The complete record of several runs: what `run --json FILE` and `report --format json` write.
    public static func report(_ runs: [Run]) -> String {
        encode(RunsDocument(schemaVersion: schemaVersion, runs: runs.map { RunJSON($0, complete: true) }))
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func comparison(_ comparison: RunComparison) -> String {
        encode(ComparisonJSON(comparison, schemaVersion: schemaVersion))
    }
}

/// `compare --json`: each step's forward and rollback change, the rollback total, the budgets, and
/// how the plan changed between the two sides.
public struct ComparisonJSON: Codable, Sendable {
    public struct Change: Codable, Sendable {
        public var beforeNs: Int64?
        public var afterNs: Int64?
        public var deltaNs: Int64?
        public var relative: Double?
        public var regression: Bool

        init(_ change: RunComparison.Change) {
            beforeNs = change.before?.nanoseconds
            afterNs = change.after?.nanoseconds
            deltaNs = change.delta?.nanoseconds
            relative = change.relative
            regression = change.isRegression
        }

        enum CodingKeys: String, CodingKey {
            case relative, regression
            case beforeNs = "before_ns", afterNs = "after_ns", deltaNs = "delta_ns"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(beforeNs, forKey: .beforeNs)
            try container.encode(afterNs, forKey: .afterNs)
            try container.encode(deltaNs, forKey: .deltaNs)
            try container.encode(relative, forKey: .relative)
            try container.encode(regression, forKey: .regression)
        }
    }

    public struct Step: Codable, Sendable {
        public var step: String
        public var forward: Change
        public var rollback: Change
        public var regression: Bool
    }

    public struct Thresholds: Codable, Sendable {
        public var relative: Double
        public var absoluteNs: Int64

        enum CodingKeys: String, CodingKey {
            case relative, absoluteNs = "absolute_ns"
        }
    }

    public struct PlanChanges: Codable, Sendable {
        public struct Changed: Codable, Sendable {
            public var step: String
            public var fields: [String]
        }

        public var added: [String]
        public var removed: [String]
        public var changed: [Changed]
    }

    public var schemaVersion: Int
    public var before: String
    public var after: String
    public var thresholds: Thresholds
    public var steps: [Step]
    public var rollbackTotal: Change
    public var budgetBeforeNs: Int64
    public var budgetAfterNs: Int64
    public var planChanges: PlanChanges
    /// What `--fail-on-regression` fails on, and whether forward steps counted.
    public var regressed: Bool
    public var includeForward: Bool
    public var outcomesBefore: [String]
    public var outcomesAfter: [String]
    public var plansDiffer: Bool
    public var cutsDiffer: Bool

    init(_ comparison: RunComparison, schemaVersion: Int) {
        regressed = comparison.hasRegression
        includeForward = comparison.includeForward
        outcomesBefore = comparison.before.outcomes
        outcomesAfter = comparison.after.outcomes
        plansDiffer = comparison.comparesDifferentPlans
        cutsDiffer = comparison.comparesDifferentCuts
        self.schemaVersion = schemaVersion
        before = comparison.before.label
        after = comparison.after.label
        thresholds = Thresholds(relative: comparison.thresholds.relative, absoluteNs: comparison.thresholds.absolute.nanoseconds)
        steps = comparison.rows.map {
            Step(step: $0.step, forward: Change($0.forward), rollback: Change($0.rollback), regression: $0.isRegression)
        }
        rollbackTotal = Change(comparison.rollbackTotal)
        budgetBeforeNs = comparison.before.budget.nanoseconds
        budgetAfterNs = comparison.after.budget.nanoseconds
        let changes = comparison.planChanges
        planChanges = PlanChanges(added: changes.added, removed: changes.removed,
                                  changed: changes.changed.map { PlanChanges.Changed(step: $0.step, fields: $0.fields) })
    }

    enum CodingKeys: String, CodingKey {
        case before, after, thresholds, steps
        case schemaVersion = "schema_version", rollbackTotal = "rollback_total", budgetBeforeNs = "budget_before_ns"
        case budgetAfterNs = "budget_after_ns", planChanges = "plan_changes", regressed
        case includeForward = "include_forward", outcomesBefore = "outcomes_before", outcomesAfter = "outcomes_after"
        case plansDiffer = "plans_differ", cutsDiffer = "cuts_differ"
    }
}
