import Foundation
import RehearseTestSupport
import Testing

@Suite struct InitCommandTests {
    @Test(arguments: ["blue-green", "in-place", "dual-write", "cut-and-fill", "custom"])
    func initWritesAPlanThatPassesCheck(strategy: String) async throws {
        try await TemporaryFolder.with { folder in
            let written = try await RehearseBinary.run(["init", "--strategy", strategy, "checkout"], in: folder.path)
            #expect(written.status == 0, "\(written.stderr)")
            #expect(written.stdout.contains("wrote Rehearsals/checkout.yml"))
            let text = try folder.read("Rehearsals/checkout.yml")
            #expect(text.contains("strategy: \(strategy)"))
            #expect(text.hasPrefix("# checkout:"))
            let checked = try await RehearseBinary.run(["check", "Rehearsals/checkout.yml"], in: folder.path)
            #expect(checked.status == 0, "\(checked.stderr)")
            #expect(checked.stderr.isEmpty)
        }
    }

    @Test func initNeverOverwrites() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/checkout.yml", "mine\n")
            let outcome = try await RehearseBinary.run(["init", "--strategy", "in-place", "checkout"], in: folder.path)
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains("already exists"))
            #expect(try folder.read("Rehearsals/checkout.yml") == "mine\n")
        }
    }

    @Test func initWritesIntoTheNearestRehearsalsFolder() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/.keep", "")
            try folder.write("app/src/.keep", "")
            let outcome = try await RehearseBinary.run(["init", "--strategy", "dual-write"], in: folder.path + "/app/src")
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(folder.exists("Rehearsals/dual-write.yml"))
            #expect(!folder.exists("app/src/Rehearsals"))
        }
    }

    @Test func unknownStrategyListsTheKnownOnes() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = try await RehearseBinary.run(["init", "--strategy", "canary"], in: folder.path)
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains("unknown strategy 'canary'; use one of blue-green, in-place, dual-write, cut-and-fill, custom"))
            #expect(!folder.exists("Rehearsals"))
        }
    }

    @Test func badNameIsRefused() async throws {
        try await TemporaryFolder.with { folder in
            let outcome = try await RehearseBinary.run(["init", "--strategy", "custom", "../escape"], in: folder.path)
            #expect(outcome.status == 64)
            #expect(!folder.exists("Rehearsals"))
        }
    }
}
