import RehearseCore
import RehearseTestSupport
import Testing

@Suite struct PlanParserTests {
    func parse(_ text: String) -> PlanParseResult {
        PlanParser().parse(text, file: "Rehearsals/test.yml", defaultName: "test")
    }

    @Test func readsEveryKeyOfTheProductExample() throws {
        let result = PlanFile.load(Fixtures.validBlueGreen)
        let plan = try #require(result.plan)
        #expect(plan.name == "checkout-v2")
        #expect(plan.strategy == .blueGreen)
        #expect(plan.budget.rollback == .seconds(240))
        #expect(plan.budget.stepTimeout == .seconds(300))
        let copy = try #require(plan.target(named: "copy"))
        #expect(copy.environment == [.init(name: "APP_ROOT", value: "../.rehearse/copy"), .init(name: "PORT", value: "18080")])
        #expect(copy.setup?.run == "./provision")
        #expect(copy.teardown?.run == "./stop")
        #expect(copy.isProtected == false)
        let production = try #require(plan.target(named: "production"))
        #expect(production.isProtected)
        // An unquoted number keeps its text as written.
        #expect(production.environment.last == .init(name: "PORT", value: "443"))
        #expect(plan.fingerprint?.run == "./scripts/state-digest")
        #expect(plan.checks.preflight.map(\.name) == ["copy is up"])
        #expect(plan.checks.restored.first?.command.timeout == .seconds(10))
        #expect(plan.steps.map(\.id) == ["deploy-green", "warm-cache", "migrate", "verify-green", "switch", "retire-blue", "remove-blue-image"])
        let migrate = try #require(plan.step(withID: "migrate"))
        #expect(migrate.needs == ["deploy-green"])
        #expect(migrate.timeout == .seconds(120))
        #expect(migrate.undo == .command("./scripts/migrate down 002"))
        #expect(plan.timeout(for: migrate) == .seconds(120))
        #expect(plan.step(withID: "warm-cache")?.needs == ["deploy-green"])
        #expect(plan.step(withID: "warm-cache")?.undo == .notNeeded)
        #expect(plan.step(withID: "retire-blue")?.undo == .irreversible)
        #expect(plan.step(withID: "switch")?.role == "switch")
        #expect(plan.steps[0].location == SourceLocation(file: Fixtures.validBlueGreen, line: 21, column: 3))
    }

    /// Issue 14, item 9: an overflowing duration is a located diagnostic, not a crash.
    @Test func anOverlongDurationIsADiagnosticAtItsPlace() {
        let result = parse("""
            strategy: custom
            budget: { rollback: \(String(repeating: "277777h", count: 10)) }
            targets: { copy: {} }
            steps:
              a: { run: 'true', rollback: 'true', timeout: 9999999h }
            """)
        #expect(result.plan == nil)
        let longer = result.diagnostics.filter { $0.message.contains("longer than 8760h") }
        #expect(longer.map(\.location.line) == [2, 5], "\(result.diagnostics)")
    }

    @Test func defaultsApplyWhenKeysAreLeftOut() throws {
        let plan = try #require(parse("""
            strategy: custom
            targets: { copy: {} }
            steps:
              only: { run: ./go, rollback: ./back }
            """).plan)
        #expect(plan.name == "test")
        #expect(plan.budget.rollback == .seconds(240))
        #expect(plan.budget.stepTimeout == .seconds(300))
        #expect(plan.fingerprint == nil)
        #expect(plan.checks == Checks())
    }

    @Test func stepTimeoutDefaultNeverUndercutsTheRollbackBudget() throws {
        let plan = try #require(parse("""
            strategy: custom
            budget: { rollback: 20m }
            targets: { copy: {} }
            steps: { a: { run: ./a, rollback: ./b } }
            """).plan)
        #expect(plan.budget.stepTimeout == .seconds(1200))
    }

    @Test func checksMayBeWrittenAsPlainCommands() throws {
        let plan = try #require(parse("""
            strategy: custom
            targets: { copy: {} }
            checks:
              smoke:
                - curl -fsS http://127.0.0.1/
            steps: { a: { run: ./a, rollback: ./b } }
            """).plan)
        #expect(plan.checks.smoke.map(\.name) == ["curl -fsS http://127.0.0.1/"])
    }

    @Test func fingerprintMayCarryItsOwnTimeout() throws {
        let plan = try #require(parse("""
            strategy: custom
            targets: { copy: {} }
            fingerprint: { run: ./digest, timeout: 30s }
            steps: { a: { run: ./a, rollback: ./b } }
            """).plan)
        #expect(plan.fingerprint?.run == "./digest")
        #expect(plan.fingerprint?.command.timeout == .seconds(30))
    }

    @Test func aPlanWithoutACopyTargetGetsAWarningButStaysValid() throws {
        let result = parse("""
            strategy: custom
            targets: { staging: {} }
            steps: { a: { run: ./a, rollback: ./b } }
            """)
        #expect(result.plan != nil)
        #expect(result.diagnostics.map(\.severity) == [.warning])
        #expect(result.diagnostics.first?.message.contains("'copy'") == true)
    }

    @Test func everyProblemIsReportedInOnePass() {
        let result = parse("""
            strategy: blue-greem
            budget: { rollback: soon }
            targets: { copy: { protected: perhaps } }
            steps:
              a: { run: ./a, needs: [ghost] }
              b: { run: ./b, rollback: ./c, needs: [b] }
              a: { run: ./a, rollback: ./z }
            """)
        #expect(result.plan == nil)
        let lines = result.diagnostics.map(\.location.line)
        #expect(lines == [1, 2, 3, 5, 5, 6, 7])
    }

    /// Issue 14, item 10: every repeat of every key of a mapping is found in one recompose (201
    /// repeated step ids in a 600 KB plan took 103 s when each cost one).
    @Test func everyRepeatedKeyOfAMappingIsReportedAtItsPlace() {
        var text = "strategy: custom\ntargets: { copy: {} }\nsteps:\n"
        for index in 0..<300 { text += "  s\(index): { run: 'true', rollback: 'true' }\n" }
        for index in (0..<201).reversed() { text += "  s\(index): { run: 'again', rollback: 'true' }\n" }
        let result = parse(text)
        #expect(result.plan == nil)
        #expect(result.diagnostics.count == 201)
        #expect(result.diagnostics.first { $0.message.hasPrefix("duplicate step id 's0' ") }?.location.line == 504)
        #expect(result.diagnostics.allSatisfy { $0.message.hasPrefix("duplicate step id") })
    }

    /// A repeat inside one item of a sequence never makes the next item's key a repeat.
    @Test func aRepeatInOneSequenceItemStaysInThatItem() {
        let result = parse("""
            strategy: custom
            targets: { copy: {} }
            checks:
              smoke:
                - name: first
                  run: 'true'
                  name: again
                - name: second
                  run: 'true'
                  owner: dba
                  owner: ops
            steps: { a: { run: ./a, rollback: ./b } }
            """)
        #expect(result.diagnostics.map(\.location.line) == [7, 11], "\(result.diagnostics)")
        #expect(result.diagnostics.map(\.message) == ["duplicate key 'name' in a smoke check (first at line 5)",
                                                      "duplicate key 'owner' in a smoke check (first at line 10)"])
    }

    @Test func duplicateKeysOutsideStepsAreReportedToo() {
        let result = parse("""
            strategy: custom
            targets:
              copy:
                env: { A: "1" }
                env: { B: "2" }
            steps: { a: { run: ./a, rollback: ./b } }
            """)
        #expect(result.plan == nil)
        #expect(result.diagnostics.map(\.message) == ["duplicate key 'env' in target 'copy' (first at line 4)"])
        #expect(result.diagnostics.first?.location.line == 5)
    }

    @Test func nothingIsExecutedWhileParsing() throws {
        // A plan whose every command would leave a mark if run.
        let marker = "/tmp/rehearse-parse-\(UInt64.random(in: 0 ... .max))"
        let result = parse("""
            strategy: custom
            targets: { copy: { setup: touch \(marker) } }
            fingerprint: touch \(marker)
            checks: { preflight: [ touch \(marker) ] }
            steps: { a: { run: touch \(marker), rollback: touch \(marker) } }
            """)
        #expect(result.plan != nil)
        #expect(!FileManagerProbe.exists(marker))
    }
}
