import Foundation
import RehearseTestSupport
import Testing

/// `rehearse check` and `rehearse init`, run as the real binary in a folder of their own.
@Suite struct CheckCommandTests {
    @Test func validPlansExitZeroAndShowOrders() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/checkout.yml", try String(contentsOfFile: Fixtures.path("plans/valid/blue-green.yml"), encoding: .utf8))
            let outcome = try await RehearseBinary.run(["check"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("checkout-v2  Rehearsals/checkout.yml"))
            #expect(outcome.stdout.contains("2  warm-cache, migrate"))
            #expect(outcome.stdout.contains("1  switch        ./scripts/route blue"))
            #expect(outcome.stdout.contains("remove-blue-image  needs retire-blue, which is irreversible"))
            #expect(outcome.stdout.contains("longest rollback chain  switch -> migrate -> deploy-green  (3 steps)"))
            // Its fingerprint has no probe: a warning, not an error.
            #expect(outcome.stdout.hasSuffix("1 plan valid (1 warning)\n"), "\(outcome.stdout)")
            #expect(outcome.stderr.contains("the fingerprint has no probe"))
        }
    }

    @Test func plansAreFoundFromASubfolder() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/a.yml", try String(contentsOfFile: Fixtures.path("plans/valid/custom.yml"), encoding: .utf8))
            try folder.write("deep/er/.keep", "")
            let outcome = try await RehearseBinary.run(["check", "--quiet"], in: folder.path + "/deep/er")
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout == "1 plan valid (no problems)\n")
        }
    }

    @Test func invalidPlanExits65WithEveryProblemAtItsLocation() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/bad.yml", try String(contentsOfFile: Fixtures.path("plans/invalid/unknown-keys.yml"), encoding: .utf8))
            try folder.write("Rehearsals/good.yml", try String(contentsOfFile: Fixtures.path("plans/valid/custom.yml"), encoding: .utf8))
            let outcome = try await RehearseBinary.run(["check"], in: folder.path)
            #expect(outcome.status == 65)
            #expect(outcome.stderr.contains("Rehearsals/bad.yml:2:1: error: unknown key 'budgets' in the plan (did you mean 'budget'?)"))
            #expect(outcome.stderr.contains("Rehearsals/bad.yml:10:5: error: unknown key 'rollbak' in step 'a' (did you mean 'rollback'?)"))
            #expect(outcome.stderr.contains("  fix: rename it to 'rollback'"))
            #expect(outcome.stderr.contains("1 of 2 plans invalid (6 errors)"))
            // The valid plan is still described.
            #expect(outcome.stdout.contains("good.yml"))
        }
    }

    @Test(arguments: Fixtures.plans(in: "plans/invalid"))
    func everyInvalidFixtureExits65(name: String) async throws {
        try await TemporaryFolder.with { folder in
            let outcome = try await RehearseBinary.run(["check", Fixtures.path("plans/invalid/\(name)")], in: folder.path)
            #expect(outcome.status == 65)
            #expect(outcome.stderr.contains(name))
            #expect(outcome.stderr.contains("error:"))
            #expect(outcome.signal == nil)
        }
    }

    @Test func missingRehearsalsFolderIsAUsageError() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = try await RehearseBinary.run(["check"], in: folder.path)
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains("no Rehearsals/ folder"))
            #expect(outcome.stderr.contains("rehearse init"))
        }
    }

    @Test func aFolderNamedAsAPlanIsRefusedCleanly() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/x.yml/inside", "")
            let outcome = try await RehearseBinary.run(["check", "Rehearsals/x.yml"], in: folder.path)
            #expect(outcome.status == 65)
            #expect(outcome.stderr.contains("Rehearsals/x.yml: error: is a folder, not a plan file"))
        }
    }

    @Test func colourOnlyWhenAllowed() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/bad.yml", "strategy: nope\n")
            // Not a terminal: plain even without NO_COLOR.
            let outcome = try await RehearseBinary.run(["check"], in: folder.path, environment: ["NO_COLOR": nil])
            #expect(!outcome.stderr.contains("\u{1B}["))
            #expect(!outcome.stdout.contains("\u{1B}["))
        }
    }
}
