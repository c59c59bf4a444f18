import Foundation
import RehearseTestSupport
import Testing

/// `--round-trip` and `--twice` end to end, against a copy made of files.
@Suite struct RoundTripTests {
    static func plan(fingerprint: String = "", steps: String) -> String {
        """
        strategy: custom
        targets: { copy: { setup: 'rm -rf ../state && mkdir -p ../state && echo 0 > ../state/n' } }
        \(fingerprint)
        steps:
        \(steps)
        """
    }

    /// The rollback empties the folder the forward step made but leaves the folder: a plain
    /// rehearsal passes, going forward a second time does not.
    @Test func aRollbackThatLeavesResiduePassesOnceAndFailsTheRoundTrip() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(steps: "  make-dir: { run: 'mkdir ../state/jobs', rollback: 'rm -f ../state/jobs/*' }"))
            #expect(try await RehearseBinary.run(["run"], in: folder.path).status == 0)
            let outcome = try await RehearseBinary.run(["run", "--round-trip"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("round trip: going forward again after the rollback failed"))
            // Fixed, the round trip passes and both rollbacks ran.
            try folder.write("Rehearsals/p.yml", Self.plan(steps: "  make-dir: { run: 'mkdir ../state/jobs', rollback: 'rm -rf ../state/jobs' }"))
            let fixed = try await RehearseBinary.run(["run", "--round-trip"], in: folder.path)
            #expect(fixed.status == 0, "\(fixed.stdout)")
            #expect(fixed.stdout.components(separatedBy: "ok    rollback    make-dir").count - 1 == 2)
            #expect(try await RehearseBinary.run(["run", "--round-trip", "--fail-at", "make-dir"], in: folder.path).status == 64)
        }
    }

    @Test func aStepThatIsNotSafeToRunTwiceIsNamed() async throws {
        try await TemporaryFolder.with { folder in
            let steps = """
                  bump: { run: 'echo $(( $(cat ../state/n) + 1 )) > ../state/n', rollback: 'echo 0 > ../state/n' }
                  flag: { run: 'touch ../state/flag', rollback: 'rm ../state/flag', needs: bump }
                """
            try folder.write("Rehearsals/p.yml", Self.plan(fingerprint: "fingerprint: cat ../state/n; ls ../state", steps: steps))
            #expect(try await RehearseBinary.run(["run"], in: folder.path).status == 0)
            let outcome = try await RehearseBinary.run(["run", "--twice"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)")
            // bump counts up again; flag's rollback fails the second time ('rm' of a removed file).
            #expect(outcome.stdout.contains("forward step 'bump' is not safe to run twice: the second run changed the fingerprint"))
            #expect(!outcome.stdout.contains("forward step 'flag' is not safe"))
        }
    }

    @Test func aRollbackThatIsNotSafeToRunTwiceIsNamed() async throws {
        try await TemporaryFolder.with { folder in
            let steps = "  flag: { run: 'touch ../state/flag', rollback: 'rm ../state/flag' }"
            try folder.write("Rehearsals/p.yml", Self.plan(steps: steps))
            let outcome = try await RehearseBinary.run(["run", "--twice"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("rollback step 'flag' is not safe to run twice: the second run failed (exit 1)"))
            try folder.write("Rehearsals/p.yml", Self.plan(steps: "  flag: { run: 'touch ../state/flag', rollback: 'rm -f ../state/flag' }"))
            #expect(try await RehearseBinary.run(["run", "--twice"], in: folder.path).status == 0)
        }
    }
}
