import Foundation
import RehearseTestSupport
import Testing

/// The plans that ship in Rehearsals/, against the sample copy environment in Fixtures/copy-env,
/// run from a copy of both in a temporary folder (the repository's own .rehearse/ is not touched).
@Suite struct SampleRehearsalTests {
    static let repository = Fixtures.root.deletingLastPathComponent()
    static let plans = ["shop-blue-green", "shop-cut-and-fill", "shop-dual-write", "shop-in-place"]

    func copySample(into folder: TemporaryFolder) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder.path + "/Fixtures", withIntermediateDirectories: true)
        try manager.copyItem(atPath: Self.repository.path + "/Rehearsals", toPath: folder.path + "/Rehearsals")
        try manager.copyItem(atPath: Self.repository.path + "/Fixtures/copy-env", toPath: folder.path + "/Fixtures/copy-env")
    }

    func edit(_ folder: TemporaryFolder, _ plan: String, replacing old: String, with new: String) throws {
        let path = folder.path + "/Rehearsals/\(plan).yml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(old), "\(plan) no longer has \(old)")
        try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func shippedPlansAreValidAndCoverTheFourStrategies() async throws {
        let outcome = try await RehearseBinary.run(["check"], in: Self.repository.path)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        for strategy in ["blue-green", "in-place", "dual-write", "cut-and-fill"] {
            #expect(outcome.stdout.contains("strategy  \(strategy):"))
        }
        // Each marks its point of no return.
        #expect(outcome.stdout.components(separatedBy: "beyond the point of no return").count == 5)
    }

    @Test func everySampleRehearsalPassesIsRecordedAndLeavesNothingRunning() async throws {
        try await TemporaryFolder.with { folder in
            try copySample(into: folder)
            let history = folder.path + "/elsewhere/history.sqlite"
            let outcome = try await RehearseBinary.run(["--target", "copy", "--history", history], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            for plan in Self.plans { #expect(outcome.stdout.contains("\(plan): PASSED")) }
            let listed = try await RehearseBinary.run(["history", "--history", history, "--json"], in: folder.path)
            let runs = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]]
            #expect(runs?.count == 4)
            #expect(runs?.allSatisfy { $0["status"] as? String == "passed" } == true)
            // Teardown removed the copy, and its HTTP server is gone.
            #expect(!folder.exists(".rehearse/copy-1"))
            #expect(await ProcessProbe.survivors(matching: folder.path + "/.rehearse/copy").isEmpty)
        }
    }

    /// Every cut point of a sample, four copies side by side: each copy its own folder and port.
    @Test func theSamplePlansSupportFourCopies() async throws {
        try await TemporaryFolder.with { folder in
            try copySample(into: folder)
            let outcome = try await RehearseBinary.run(["run", "Rehearsals/shop-blue-green.yml", "--every-cut", "--copies", "4"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("worst: "))
            #expect(!outcome.stdout.contains("FAILED"))
            #expect(await ProcessProbe.survivors(matching: folder.path + "/.rehearse/copy").isEmpty)
        }
    }

    /// For each plan, one rollback made to do nothing: the rehearsal must notice.
    @Test(arguments: [
        ("shop-blue-green", #"rollback: sqlite3 "$APP_ROOT/shop.sqlite" "ALTER TABLE customers DROP COLUMN loyalty_points""#),
        ("shop-in-place", #"rollback: sqlite3 "$APP_ROOT/shop.sqlite" ".restore '$APP_ROOT/backup/shop.sqlite'""#),
        ("shop-dual-write", #"rollback: sqlite3 "$DB" "DROP TRIGGER IF EXISTS orders_v2_insert; DROP TRIGGER IF EXISTS orders_v2_update; DROP TRIGGER IF EXISTS orders_v2_delete""#),
        ("shop-cut-and-fill", #"rollback: rm -f "$APP_ROOT/shop-v2.sqlite""#),
    ])
    func aBrokenRollbackIsCaught(plan: String, rollback: String) async throws {
        try await TemporaryFolder.with { folder in
            try copySample(into: folder)
            try edit(folder, plan, replacing: rollback, with: "rollback: 'true'")
            let outcome = try await RehearseBinary.run(["run", "Rehearsals/\(plan).yml"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("\(plan): FAILED"))
            #expect(outcome.stdout.contains("the fingerprint after the rollback differs") || outcome.stdout.contains("restored check"))
            #expect(await ProcessProbe.survivors(matching: folder.path + "/.rehearse/copy").isEmpty)
        }
    }

    @Test func aSlowRollbackOverASmallBudgetExitsOne() async throws {
        try await TemporaryFolder.with { folder in
            try copySample(into: folder)
            try edit(folder, "shop-blue-green", replacing: "  rollback: 30s", with: "  rollback: 300ms")
            try edit(folder, "shop-blue-green", replacing: "rollback: ../Fixtures/copy-env/route blue",
                     with: "rollback: sleep 0.5; ../Fixtures/copy-env/route blue")
            let outcome = try await RehearseBinary.run(["run", "Rehearsals/shop-blue-green.yml"], in: folder.path)
            #expect(outcome.status == 1, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("shop-blue-green: OVER BUDGET"))
            #expect(outcome.stdout.contains("slowest rollback steps: switch "))
        }
    }
}
