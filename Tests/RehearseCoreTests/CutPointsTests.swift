import RehearseCore
import Testing

@Suite struct CutPointsTests {
    func plan(_ steps: String) throws -> Plan {
        let text = "strategy: custom\ntargets: { copy: {} }\nsteps:\n" + steps
        let result = PlanParser().parse(text, file: "/virtual/p.yml", defaultName: "p")
        return try #require(result.plan, "\(result.diagnostics)")
    }

    @Test func aChainIsCutAtEachReversibleStepThenRehearsedWhole() throws {
        let plan = try plan("""
              a: { run: ./a, rollback: ./undo-a }
              read: { run: ./read, rollback: none, needs: a }
              b: { run: ./b, rollback: ./undo-b, needs: read }
              retire: { run: ./retire, irreversible: true, needs: b }
            """)
        // `rollback: none` adds nothing to cut at; the irreversible step is never rehearsed.
        #expect(CutPoints.of(plan) == [.failAt("a"), .failAt("b"), nil])
    }

    @Test func parallelBranchesAreCutInForwardOrderWithFileOrderBetweenThem() throws {
        let plan = try plan("""
              root: { run: ./r, rollback: ./u }
              right: { run: ./r, rollback: ./u, needs: root }
              left: { run: ./l, rollback: ./u, needs: root }
              join: { run: ./j, rollback: ./u, needs: [left, right] }
              lone: { run: ./x, rollback: ./u }
            """)
        // Among steps ready together, file order: right before left, join (ready once both end) before lone.
        #expect(CutPoints.of(plan) == [.failAt("root"), .failAt("right"), .failAt("left"), .failAt("join"), .failAt("lone"), nil])
        let cuts = CutPoints.of(plan)
        #expect(cuts.count == 6)
        #expect(cuts.last == .some(nil))
        // Every step comes after the steps it needs.
        let order = cuts.compactMap { $0?.step }
        #expect(order.firstIndex(of: "root")! < order.firstIndex(of: "left")!)
        #expect(order.firstIndex(of: "left")! < order.firstIndex(of: "join")!)
        #expect(order.firstIndex(of: "right")! < order.firstIndex(of: "join")!)
        #expect(order.firstIndex(of: "right")! < order.firstIndex(of: "left")!)
    }

    @Test func shardsSplitTheCutsDeterministicallyWithNoneLeftOut() {
        let items = Array(0..<7)
        let shards = (1...3).map { Shard(index: $0, count: 3)! }
        let slices = shards.map { $0.slice(items) }
        #expect(slices == [[0, 3, 6], [1, 4], [2, 5]])
        #expect(slices.flatMap { $0 }.sorted() == items)
        #expect(Shard("2/4") == Shard(index: 2, count: 4))
        for bad in ["0/4", "5/4", "1/0", "a/b", "2", "1/2/3", "-1/2", ""] { #expect(Shard(bad) == nil, "\(bad)") }
    }

    @Test func atomicIsReadFromThePlan() throws {
        let plan = try plan("  m: { run: ./m, rollback: ./u, atomic: true }\n  n: { run: ./n, rollback: ./u }\n")
        #expect(plan.step(withID: "m")?.isAtomic == true)
        #expect(plan.step(withID: "n")?.isAtomic == false)
        let bad = PlanParser().parse("strategy: custom\ntargets: { copy: {} }\nsteps:\n  m: { run: ./m, rollback: ./u, atomic: maybe }\n",
                                     file: "/virtual/p.yml", defaultName: "p")
        #expect(bad.plan == nil)
        #expect(bad.diagnostics.first?.location.line == 4)
    }

    /// An escape sequence in a name would reach the operator's terminal: refused.
    @Test func namesWithControlCharactersAreRefused() {
        let check = "strategy: custom\ntargets: { copy: {} }\nchecks:\n  smoke: [ { name: \"ok\\e[2J\", run: 'true' } ]\nsteps:\n  m: { run: ./m, rollback: ./u }\n"
        let result = PlanParser().parse(check, file: "/virtual/p.yml", defaultName: "p")
        #expect(result.plan == nil)
        #expect(result.diagnostics.first?.message.contains("control character") == true)
        let plan = "name: \"p\\x1b]0;owned\\x07\"\nstrategy: custom\ntargets: { copy: {} }\nsteps:\n  m: { run: ./m, rollback: ./u }\n"
        #expect(PlanParser().parse(plan, file: "/virtual/p.yml", defaultName: "p").plan == nil)
    }

    @Test func inputsAreRelativePathsOrGlobs() {
        let text = "strategy: custom\ntargets: { copy: {} }\ninputs: [ '../migrations/*.sql', /etc/passwd, '' ]\nsteps:\n  m: { run: ./m, rollback: ./u }\n"
        let result = PlanParser().parse(text, file: "/virtual/p.yml", defaultName: "p")
        #expect(result.plan == nil)
        #expect(result.diagnostics.count == 2)
        #expect(result.diagnostics.allSatisfy { $0.location.line == 3 })
    }
}
