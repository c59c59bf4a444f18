import Foundation
import RehearseCore
import RehearseTestSupport
import Testing

/// Issue 14: the plan parser never crashes or hangs, whatever it is given. Mutants of every
/// fixture and sample plan (10,000 by default; `REHEARSE_FUZZ_MUTANTS` and `REHEARSE_FUZZ_SEED`
/// change that, and `Benchmarks/fuzz-plans.sh` runs many more in a release build) are parsed,
/// validated and, when valid, analysed as `check` does. Every one must end as a plan or as
/// diagnostics that point inside the file.
@Suite struct PlanFuzzTests {
    static func corpus() throws -> [String] {
        let rehearsals = Fixtures.root.deletingLastPathComponent().appendingPathComponent("Rehearsals").path
        var paths = Fixtures.plans(in: "plans/valid").map { Fixtures.path("plans/valid/" + $0) }
        paths += Fixtures.plans(in: "plans/invalid").map { Fixtures.path("plans/invalid/" + $0) }
        paths += ((try? FileManager.default.contentsOfDirectory(atPath: rehearsals)) ?? []).filter { $0.hasSuffix(".yml") }.sorted()
            .map { rehearsals + "/" + $0 }
        return try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }
    }

    @Test func mutantsOfThePlansNeverCrashOrEscapeTheirFile() async throws {
        let environment = ProcessInfo.processInfo.environment
        let count = environment["REHEARSE_FUZZ_MUTANTS"].flatMap(Int.init) ?? 10_000
        let seed = environment["REHEARSE_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x5248_5253
        let corpus = try Self.corpus()
        #expect(corpus.count >= 20)
        let mutator = PlanMutator(corpus: corpus)
        let started = ContinuousClock.now
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let results = await withTaskGroup(of: Tally.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    await OwnThread.run {
                        var tally = Tally()
                        for index in stride(from: worker, to: count, by: workers) {
                            tally.add(Self.check(mutator.mutant(index, seed: seed), index: index))
                        }
                        return tally
                    }
                }
            }
            var total = Tally()
            for await tally in group { total.merge(tally) }
            return total
        }
        let elapsed = ContinuousClock.now - started
        #expect(results.failures.isEmpty, "seed \(seed): \(results.failures.prefix(5))")
        #expect(results.valid + results.invalid == count)
        #expect(results.valid > 0 && results.invalid > 0, "the mutants should reach both outcomes")
        print("fuzz: \(count) mutants of \(corpus.count) plans (seed \(seed)) in \(elapsed): \(results.valid) valid, "
              + "\(results.invalid) rejected; slowest \(results.slowest) (mutant \(results.slowestIndex))")
    }

    struct Tally: Sendable {
        var valid = 0, invalid = 0
        var failures: [String] = []
        var slowest = Duration.zero
        var slowestIndex = -1

        mutating func add(_ outcome: (valid: Bool, took: Duration, failure: String?, index: Int)) {
            if outcome.valid { valid += 1 } else { invalid += 1 }
            if let failure = outcome.failure { failures.append(failure) }
            if outcome.took > slowest { slowest = outcome.took; slowestIndex = outcome.index }
        }

        mutating func merge(_ other: Tally) {
            valid += other.valid
            invalid += other.invalid
            failures += other.failures
            if other.slowest > slowest { slowest = other.slowest; slowestIndex = other.slowestIndex }
        }
    }

    /// Parses one mutant the way `check` does (text that is not UTF-8 or holds NUL is refused
    /// before parsing, as `PlanFile` does) and says what is wrong with the outcome, if anything.
    static func check(_ bytes: [UInt8], index: Int) -> (valid: Bool, took: Duration, failure: String?, index: Int) {
        let started = ContinuousClock.now
        guard let text = String(validating: bytes, as: UTF8.self), !bytes.contains(0) else {
            return (false, ContinuousClock.now - started, nil, index)
        }
        let result = PlanParser().parse(text, file: "Rehearsals/mutant.yml", defaultName: "mutant")
        var failure: String?
        if let plan = result.plan {
            if result.diagnostics.contains(where: { $0.severity == .error }) { failure = "mutant \(index): a plan with errors" }
            _ = PlanAnalysis(plan: plan)
        } else if !result.diagnostics.contains(where: { $0.severity == .error }) {
            failure = "mutant \(index): no plan and no error"
        }
        let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
        for diagnostic in result.diagnostics where diagnostic.location.line > lineCount + 1 || diagnostic.location.line < 0 {
            failure = "mutant \(index): a diagnostic at line \(diagnostic.location.line) of \(lineCount)"
        }
        return (result.plan != nil, ContinuousClock.now - started, failure, index)
    }
}
