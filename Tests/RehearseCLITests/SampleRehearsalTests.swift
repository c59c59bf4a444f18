import Foundation
import RehearseTestSupport
import Testing

/// The plans that ship in Rehearsals/, against the sample copy environment in Fixtures/copy-env,
/// run from a copy of both in a temporary folder (the repository's own .rehearse/ is not touched).
@Suite struct SampleRehearsalTests {
    static let repository = Fixtures.root.deletingLastPathComponent()

    func copySample(into folder: TemporaryFolder) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder.path + "/Fixtures", withIntermediateDirectories: true)
        try manager.copyItem(atPath: Self.repository.path + "/Rehearsals", toPath: folder.path + "/Rehearsals")
        try manager.copyItem(atPath: Self.repository.path + "/Fixtures/copy-env", toPath: folder.path + "/Fixtures/copy-env")
    }

    @Test func shippedPlansAreValid() async throws {
        let outcome = try await RehearseBinary.run(["check", "--quiet"], in: Self.repository.path)
        #expect(outcome.status == 0, "\(outcome.stderr)")
    }

    @Test func sampleRehearsalPassesAndLeavesNothingRunning() async throws {
        try await TemporaryFolder.with { folder in
            try copySample(into: folder)
            let outcome = try await RehearseBinary.run(["--target", "copy"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("shop-blue-green: PASSED"))
            #expect(outcome.stdout.contains("ok    restored    v1 is live again"))
            // Teardown removed the copy, and its HTTP server is gone.
            #expect(!folder.exists(".rehearse/copy"))
            #expect(await ProcessProbe.survivors(matching: folder.path + "/.rehearse/copy").isEmpty)
        }
    }

    @Test func aBrokenRollbackInTheSampleIsCaughtByTheFingerprint() async throws {
        try await TemporaryFolder.with { folder in
            try copySample(into: folder)
            let plan = folder.path + "/Rehearsals/shop-blue-green.yml"
            let text = try String(contentsOfFile: plan, encoding: .utf8).replacingOccurrences(
                of: #"rollback: sqlite3 "$APP_ROOT/shop.sqlite" "ALTER TABLE customers DROP COLUMN loyalty_points""#,
                with: "rollback: 'true'")
            try text.write(toFile: plan, atomically: true, encoding: .utf8)
            let outcome = try await RehearseBinary.run([], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("the fingerprint after the rollback differs"))
            #expect(outcome.stdout.contains("schema: "))
        }
    }
}
