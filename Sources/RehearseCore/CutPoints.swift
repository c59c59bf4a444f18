/// The rehearsals of an every-cut run (`rehearse run --every-cut`): the rollback from every place
/// the go-live can fail.
public enum CutPoints {
    /// A `--fail-at` at each step that a rehearsal runs and that has a rollback command, in
    /// forward order (file order between parallel branches), then the full rehearsal (`nil`).
    ///
    /// Steps with `rollback: none` are left out: failing at one rolls back exactly what failing
    /// at the step before it does.
    public static func of(_ plan: Plan) -> [Cut?] {
        let graph = plan.graph
        let cuts: [Cut?] = graph.forwardOrder(of: graph.rehearsable())
            .filter { graph.steps[$0].rollbackCommand != nil }
            .map { Cut.failAt(graph.steps[$0].id) }
        return cuts + [nil]
    }

    /// The cuts a recorded every-cut group had to rehearse, from the plan text its runs recorded
    /// (the shard's slice of it); nil when that text no longer parses or does not match the
    /// group's size.
    public static func planned(for group: RunGroup, planText: String, file: String, name: String) -> [Cut?]? {
        guard group.kind == .everyCut else { return nil }
        guard let plan = PlanParser().parse(planText, file: file, defaultName: name).plan else { return nil }
        let all = of(plan)
        let planned = group.shard.flatMap(Shard.init).map { $0.slice(all) } ?? all
        return planned.count == group.size ? planned : nil
    }

    /// The cuts of `plan` that a shard (or, without one, the whole group) rehearses.
    public static func of(_ plan: Plan, shard: Shard?) -> [Cut?] {
        shard?.slice(of(plan)) ?? of(plan)
    }
}

/// One slice of a set of rehearsals, for a CI job matrix: `--shard I/N` runs the items whose
/// position (from 0) is I-1 modulo N, so that every item runs in exactly one of the N shards and
/// early and late cuts spread evenly.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// From 1.
    public var index: Int
    public var count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 1, index <= count else { return nil }
        self.index = index
        self.count = count
    }

    /// `I/N`, with 1 <= I <= N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The items of this shard, in their order.
    public func slice<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }
}
