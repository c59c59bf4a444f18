/// How long a plan's rollback takes over several rehearsals: count, median, 95th percentile and
/// maximum, and the headroom the 95th percentile leaves under the budget.
public struct RollbackStats: Sendable, Hashable {
    public var count: Int
    public var median: Duration
    public var p95: Duration
    public var max: Duration
    public var budget: Duration

    /// nil without any time.
    public init?(_ times: [Duration], budget: Duration) {
        guard !times.isEmpty else { return nil }
        let sorted = times.sorted()
        count = sorted.count
        median = Self.percentile(sorted, 0.5)
        p95 = Self.percentile(sorted, 0.95)
        max = sorted.last!
        self.budget = budget
    }

    /// The budget left above the 95th percentile (negative when it is over).
    public var headroom: Duration { budget - p95 }

    /// Nearest-rank percentile of sorted values: the smallest value with at least `share` of the
    /// values at or below it.
    static func percentile(_ sorted: [Duration], _ share: Double) -> Duration {
        let rank = Int((share * Double(sorted.count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
    }

    /// The rollback times of the full rehearsals among `runs` that passed or went over budget
    /// (cuts roll back less, failed runs did not finish theirs, `--twice` times its steps twice).
    public static func ofFullRehearsals(_ runs: [Run], budget: Duration) -> RollbackStats? {
        RollbackStats(runs.filter(counts).compactMap(\.rollback), budget: budget)
    }

    /// A run whose rollback time says how long the rollback takes.
    public static func counts(_ run: Run) -> Bool {
        run.kind == .rehearsal && (run.status == .passed || run.status == .overBudget) && run.isFull && !run.modes.contains("twice")
    }

    /// Each rollback step's times over `runs`, by step, in the order the steps first appear: one
    /// time per run (a round trip's slower pass).
    public static func perStep(_ runs: [Run], budget: Duration) -> [(step: String, stats: RollbackStats)] {
        var order: [String] = []
        var times: [String: [Duration]] = [:]
        for run in runs where counts(run) {
            var slowest: [String: Duration] = [:]
            for activity in run.activities where activity.kind == .rollback {
                guard let duration = activity.duration, activity.status == .passed else { continue }
                if times[activity.name] == nil, slowest[activity.name] == nil { order.append(activity.name) }
                slowest[activity.name] = Swift.max(slowest[activity.name] ?? .zero, duration)
            }
            for (step, duration) in slowest { times[step, default: []].append(duration) }
        }
        return order.compactMap { step in RollbackStats(times[step] ?? [], budget: budget).map { (step, $0) } }
    }
}
