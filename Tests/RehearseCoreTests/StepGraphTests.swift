import RehearseCore
import Testing

/// Graph operations on small hand-made graphs.
@Suite struct StepGraphTests {
    let here = SourceLocation(file: "test.yml", line: 1, column: 1)

    func step(_ id: String, needs: [String] = [], undo: Step.Undo? = nil) -> Step {
        Step(id: id, run: "run-\(id)", undo: undo ?? .command("undo-\(id)"), needs: needs, location: here)
    }

    /// a -> (b, c) -> d, with e independent and written first.
    var diamond: StepGraph {
        StepGraph(steps: [
            step("e"), step("d", needs: ["b", "c"]), step("a"), step("c", needs: ["a"]), step("b", needs: ["a"]),
        ])
    }

    @Test func forwardOrderFollowsNeedsThenFileOrder() {
        let graph = diamond
        #expect(graph.ids(graph.forwardOrder()) == ["e", "a", "c", "b", "d"])
    }

    @Test func forwardGroupsAreDepthLevels() {
        let graph = diamond
        #expect(graph.forwardGroups().map(graph.ids) == [["e", "a"], ["c", "b"], ["d"]])
    }

    @Test func rollbackOrderIsReverseDependencyOrder() {
        let graph = diamond
        let all = Set(0..<graph.count)
        let order = graph.ids(graph.rollbackOrder(of: all))
        #expect(order == ["d", "b", "c", "a", "e"])
        // Every step rolls back after every applied step that needs it.
        for (index, id) in order.enumerated() {
            let step = graph.steps[graph.index(of: id)!]
            for need in step.needs { #expect(order.firstIndex(of: need)! > index) }
        }
    }

    @Test func rollbackOfAPartialRunOnlyTouchesAppliedSteps() {
        let graph = diamond
        let applied: Set<Int> = [graph.index(of: "a")!, graph.index(of: "c")!]
        #expect(graph.ids(graph.rollbackOrder(of: applied)) == ["c", "a"])
        #expect(graph.rollbackGroups(of: applied).map(graph.ids) == [["c"], ["a"]])
    }

    @Test func rollbackGroupsRunIndependentBranchesTogether() {
        let graph = diamond
        #expect(graph.rollbackGroups(of: Set(0..<graph.count)).map(graph.ids) == [["e", "d"], ["c", "b"], ["a"]])
    }

    @Test func pointOfNoReturnIncludesEverythingThatNeedsIt() {
        let graph = StepGraph(steps: [
            step("deploy"), step("switch", needs: ["deploy"]),
            step("retire", needs: ["switch"], undo: .irreversible),
            step("cleanup", needs: ["retire"]), step("report", needs: ["cleanup"], undo: .notNeeded),
            step("notify", needs: ["switch"]),
        ])
        #expect(graph.ids(graph.forwardOrder(of: graph.beyondPointOfNoReturn())) == ["retire", "cleanup", "report"])
        #expect(graph.ids(graph.forwardOrder(of: graph.rehearsable())) == ["deploy", "switch", "notify"])
    }

    @Test func longestRollbackChainSkipsStepsWithoutRollback() {
        let graph = StepGraph(steps: [
            step("a"), step("b", needs: ["a"], undo: .notNeeded), step("c", needs: ["b"]),
            step("x"), step("y", needs: ["x"]),
        ])
        let all = Set(0..<graph.count)
        #expect(graph.ids(graph.longestRollbackChain(of: all)) == ["c", "a"])
        // With measured weights the slow branch wins.
        let slow = graph.longestRollbackChain(of: all) { graph.steps[$0].id == "y" ? 100 : 1 }
        #expect(graph.ids(slow) == ["y", "x"])
    }

    @Test func cyclesAreFoundWhole() {
        let graph = StepGraph(steps: [
            step("a", needs: ["c"]), step("b", needs: ["a"]), step("c", needs: ["b"]),
            step("self", needs: ["self"]), step("fine"),
        ])
        #expect(graph.cycles().map(graph.ids) == [["a", "c", "b"], ["self"]])
    }

    @Test func acyclicGraphHasNoCycles() {
        #expect(diamond.cycles().isEmpty)
    }

    @Test func unknownNeedsAreIgnoredByTheGraph() {
        let graph = StepGraph(steps: [step("a", needs: ["ghost"])])
        #expect(graph.needs == [[]])
        #expect(graph.ids(graph.forwardOrder()) == ["a"])
    }

    @Test func tenThousandStepChainNeedsNoDeepRecursion() {
        var steps = [step("s0")]
        for index in 1..<10_000 { steps.append(step("s\(index)", needs: ["s\(index - 1)"])) }
        let graph = StepGraph(steps: steps)
        #expect(graph.cycles().isEmpty)
        #expect(graph.forwardOrder().count == 10_000)
        #expect(graph.longestRollbackChain(of: Set(0..<10_000)).count == 10_000)
    }
}
