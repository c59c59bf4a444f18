/// Two rehearsals of a plan side by side: each step's forward and rollback time with the change,
/// regressions flagged only where they are both relative and absolute enough to be real, and what
/// changed in the plan between the two.
public struct RunComparison: Sendable {
    /// One side: a run, or the median of several runs (`--baseline N`).
    public struct Side: Sendable {
        public var label: String
        public var forward: [String: Duration]
        public var rollback: [String: Duration]
        public var rollbackTotal: Duration?
        public var budget: Duration
        public var planText: String
        public var stepOrder: [String]
        /// The plan's name (of the newest run, for a median).
        public var planName: String
        /// How each run of the side ended, and what it rehearsed: `run 41 passed (full rehearsal)`.
        public var outcomes: [String]
        /// What the side's runs rehearsed: a cut, or `nil` for full rehearsals (of the newest run).
        public var cut: Cut?
        /// A rehearsal, or the go-live itself (a median is of rehearsals).
        public var kind: RunKind = .rehearsal

        public init(run: Run) {
            label = run.isLive ? "run \(run.id) (live)" : "run \(run.id)"
            kind = run.kind
            planName = run.planName
            outcomes = [Self.outcome(run)]
            cut = run.cut
            forward = Self.durations(run, .forward)
            rollback = Self.durations(run, .rollback)
            rollbackTotal = run.rollback
            budget = run.budget
            planText = run.planText
            stepOrder = Self.order(run)
        }

        /// The median of each figure over `runs` (oldest first), labelled `median of N runs`.
        public init(medianOf runs: [Run]) {
            label = "median of \(runs.count) run\(runs.count == 1 ? "" : "s") (\(runs.map { String($0.id) }.joined(separator: ", ")))"
            forward = Self.medians(runs.map { Self.durations($0, .forward) })
            rollback = Self.medians(runs.map { Self.durations($0, .rollback) })
            rollbackTotal = Self.median(runs.compactMap(\.rollback))
            budget = runs.last?.budget ?? Budget.defaultRollback
            planText = runs.last?.planText ?? ""
            stepOrder = runs.last.map(Self.order) ?? []
            planName = runs.last?.planName ?? ""
            outcomes = runs.map(Self.outcome)
            cut = runs.last?.cut
        }

        static func outcome(_ run: Run) -> String {
            if run.isLive { return "run \(run.id) \(run.status.rawValue) (live on \(run.target))" }
            return "run \(run.id) \(run.status.rawValue) (\(run.cut?.phrase ?? "full rehearsal"))"
        }

        static func durations(_ run: Run, _ kind: Activity.Kind) -> [String: Duration] {
            var result: [String: Duration] = [:]
            for activity in run.activities where activity.kind == kind {
                if let duration = activity.duration { result[activity.name] = duration }
            }
            return result
        }

        static func order(_ run: Run) -> [String] {
            var seen = Set<String>()
            return run.activities.filter { $0.kind.isStep }.map(\.name).filter { seen.insert($0).inserted }
        }

        static func medians(_ maps: [[String: Duration]]) -> [String: Duration] {
            var values: [String: [Duration]] = [:]
            for map in maps { for (key, value) in map { values[key, default: []].append(value) } }
            return values.compactMapValues(median)
        }

        static func median(_ values: [Duration]) -> Duration? {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }
    }

    /// When a change counts as a regression: both at least this much slower in relative terms and
    /// at least this much in absolute terms.
    public struct Thresholds: Sendable, Hashable {
        public var relative: Double
        public var absolute: Duration

        public init(relative: Double = 0.2, absolute: Duration = .milliseconds(250)) {
            self.relative = relative
            self.absolute = absolute
        }

        public func isRegression(from old: Duration?, to new: Duration?) -> Bool {
            guard let old, let new, new > old else { return false }
            let delta = new - old
            return delta >= absolute && (old == .zero || delta.seconds / old.seconds >= relative)
        }
    }

    /// One figure on both sides.
    public struct Change: Sendable, Hashable {
        public var before: Duration?
        public var after: Duration?
        public var isRegression: Bool

        public var delta: Duration? {
            guard let before, let after else { return nil }
            return after - before
        }

        /// The change as a share of `before` (0.25 is 25% slower).
        public var relative: Double? {
            guard let before, let after, before > .zero else { return nil }
            return (after - before).seconds / before.seconds
        }
    }

    public struct StepRow: Sendable, Hashable {
        public var step: String
        public var forward: Change
        public var rollback: Change
        /// Whether this row counts against `--fail-on-regression`: its rollback got slower, or
        /// (with `includeForward`) its forward step did.
        public var isRegression: Bool
    }

    /// How the plan itself changed between the two sides.
    public struct PlanChanges: Sendable, Hashable {
        public var added: [String] = []
        public var removed: [String] = []
        /// Step id and what about it changed (`run`, `rollback`, `needs`, `timeout`, `role`).
        public var changed: [(step: String, fields: [String])] = []
        public var budgetChanged: (Duration, Duration)?

        public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty && budgetChanged == nil }

        public static func == (a: PlanChanges, b: PlanChanges) -> Bool {
            a.added == b.added && a.removed == b.removed && a.changed.map(\.step) == b.changed.map(\.step)
                && a.changed.map(\.fields) == b.changed.map(\.fields)
                && a.budgetChanged.map { [$0.0, $0.1] } == b.budgetChanged.map { [$0.0, $0.1] }
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(added)
            hasher.combine(removed)
            hasher.combine(changed.map(\.step))
        }
    }

    public var before: Side
    public var after: Side
    public var thresholds: Thresholds
    public var rows: [StepRow]
    public var rollbackTotal: Change
    public var planChanges: PlanChanges
    /// Forward steps count as regressions too (`--include-forward`); by default only the
    /// rollback does: it is what the budget is about.
    public var includeForward: Bool

    public init(before: Side, after: Side, thresholds: Thresholds = Thresholds(), includeForward: Bool = false) {
        self.before = before
        self.after = after
        self.thresholds = thresholds
        self.includeForward = includeForward
        var order = after.stepOrder
        for step in before.stepOrder where !order.contains(step) { order.append(step) }
        rows = order.map { step in
            let forward = Change(before: before.forward[step], after: after.forward[step],
                                 isRegression: thresholds.isRegression(from: before.forward[step], to: after.forward[step]))
            let rollback = Change(before: before.rollback[step], after: after.rollback[step],
                                  isRegression: thresholds.isRegression(from: before.rollback[step], to: after.rollback[step]))
            return StepRow(step: step, forward: forward, rollback: rollback,
                           isRegression: rollback.isRegression || (includeForward && forward.isRegression))
        }
        rollbackTotal = Change(before: before.rollbackTotal, after: after.rollbackTotal,
                               isRegression: thresholds.isRegression(from: before.rollbackTotal, to: after.rollbackTotal))
        planChanges = Self.changes(from: before.planText, to: after.planText)
    }

    /// Rows that count as regressions.
    public var regressions: [StepRow] { rows.filter(\.isRegression) }

    /// Forward steps that got slower but do not count (without `includeForward`).
    public var forwardSlowdowns: [StepRow] { rows.filter { $0.forward.isRegression && !$0.isRegression } }

    /// What `--fail-on-regression` fails on: a counted step regression, or the rollback total.
    public var hasRegression: Bool { !regressions.isEmpty || rollbackTotal.isRegression }

    /// The two sides are runs of differently named plans: the comparison may mean little.
    public var comparesDifferentPlans: Bool { before.planName != after.planName }

    /// The two sides rehearsed different things (a full rehearsal against a cut, two cuts): their
    /// rollbacks undo different steps.
    public var comparesDifferentCuts: Bool { before.cut != after.cut }

    /// What differs between two plan texts, step by step.
    public static func changes(from old: String, to new: String) -> PlanChanges {
        var changes = PlanChanges()
        guard old != new else { return changes }
        let parser = PlanParser()
        guard let a = parser.parse(old, file: "before.yml", defaultName: "plan").plan,
              let b = parser.parse(new, file: "after.yml", defaultName: "plan").plan
        else { return changes }
        let oldSteps = Dictionary(a.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let newIDs = Set(b.steps.map(\.id))
        changes.added = b.steps.map(\.id).filter { oldSteps[$0] == nil }
        changes.removed = a.steps.map(\.id).filter { !newIDs.contains($0) }
        for step in b.steps {
            guard let previous = oldSteps[step.id] else { continue }
            var fields: [String] = []
            if previous.run != step.run { fields.append("run") }
            if previous.undo != step.undo { fields.append("rollback") }
            if previous.needs != step.needs { fields.append("needs") }
            if previous.timeout != step.timeout { fields.append("timeout") }
            if previous.role != step.role { fields.append("role") }
            if !fields.isEmpty { changes.changed.append((step.id, fields)) }
        }
        if a.budget.rollback != b.budget.rollback { changes.budgetChanged = (a.budget.rollback, b.budget.rollback) }
        return changes
    }
}

/// How the files a plan names as its `inputs:` differ between two moments: by path relative to
/// the plan's folder.
public struct InputChanges: Sendable, Hashable {
    public var changed: [String]
    public var added: [String]
    public var removed: [String]

    public init(changed: [String] = [], added: [String] = [], removed: [String] = []) {
        self.changed = changed
        self.added = added
        self.removed = removed
    }

    public var isEmpty: Bool { changed.isEmpty && added.isEmpty && removed.isEmpty }

    /// `migrations/004.sql changed; scripts/new.sh added`.
    public var summary: String {
        var parts: [String] = []
        if !changed.isEmpty { parts.append(changed.joined(separator: ", ") + " changed") }
        if !added.isEmpty { parts.append(added.joined(separator: ", ") + " added") }
        if !removed.isEmpty { parts.append(removed.joined(separator: ", ") + " removed") }
        return parts.joined(separator: "; ")
    }
}
