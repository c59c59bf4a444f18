import Foundation
import RehearseTestSupport
import Testing

/// Writes made during the go-live window must survive the rollback: checked by `kept` checks and
/// by comparing the state after the rollback with a control copy that never deployed.
@Suite struct WindowTests {
    static func plan(rollback: String) -> String {
        """
        strategy: custom
        targets:
          copy:
            env: { DATA: '../data-$REHEARSE_COPY' }
            setup: rm -rf "$DATA" && mkdir -p "$DATA" && printf 'order 1\\norder 2\\n' > "$DATA/orders"
            teardown: rm -rf "$DATA"
        fingerprint: 'cat "$DATA/orders"; test -e "$DATA/v2" && echo v2 live; true'
        window:
          write: [ { name: place an order, run: 'echo "order 3" >> "$DATA/orders"' } ]
          kept: [ { name: the order is there, run: 'grep -qx "order 3" "$DATA/orders"' } ]
        steps:
          go-v2:
            run: 'cp "$DATA/orders" "$DATA/snapshot" && touch "$DATA/v2"'
            rollback: \(rollback)
        """
    }

    /// The rollback restores the pre-window snapshot: the order placed during the window is lost.
    @Test func aRollbackThatLosesTheWindowsWritesFailsBothWays() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(rollback: #"'cp "$DATA/snapshot" "$DATA/orders" && rm "$DATA/v2" "$DATA/snapshot"'"#))
            let outcome = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(outcome.status == 2, "\(outcome.stdout)")
            #expect(outcome.stdout.contains("kept check 'the order is there' failed"))
            #expect(outcome.stdout.contains("the fingerprint after the rollback differs"))
            #expect(outcome.stdout.contains("    -order 3"))
            // The control ran on its own copy, and is gone.
            #expect(outcome.stdout.contains("ok    window-write place an order (control)"))
            #expect(!folder.exists("data-control"))
        }
    }

    /// Without a copy of its own, the control's writes would land in the copy itself.
    @Test func aControlThatCannotBeKeptApartIsRefused() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(rollback: "'true'").replacingOccurrences(of: "'../data-$REHEARSE_COPY'", with: "../data"))
            let outcome = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(outcome.status == 64, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stderr.contains("cannot make a control copy apart from the copy itself"))
            #expect(!folder.exists("data"))
        }
    }

    /// A round trip makes the window's writes once: the second pass must keep them too.
    @Test func aRoundTripWithAWindowWritesOnce() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(rollback: #"'rm "$DATA/v2" "$DATA/snapshot"'"#))
            let outcome = try await RehearseBinary.run(["run", "--round-trip"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            let writes = outcome.stdout.split(separator: "\n").filter { $0.contains("ok    window-write place an order") && !$0.contains("(control)") }
            #expect(writes.count == 1, "\(outcome.stdout)")
            #expect(outcome.stdout.components(separatedBy: "ok    kept").count - 1 == 2)
        }
    }

    /// Killed mid-forward, a windowed run is recovered on its copy (the control's teardown is not
    /// the run's), and verified against the state before (the window never ran).
    @Test func aKilledWindowedRunIsRecovered() async throws {
        try await TemporaryFolder.with { folder in
            let text = Self.plan(rollback: #"'rm -f "$DATA/v2" "$DATA/snapshot"'"#)
                .replacingOccurrences(of: #"run: 'cp "$DATA/orders" "$DATA/snapshot" && touch "$DATA/v2"'"#,
                                      with: #"run: 'cp "$DATA/orders" "$DATA/snapshot" && touch "$DATA/v2" ../started && sleep 30'"#)
            try folder.write("Rehearsals/p.yml", text)
            let killed = try await RehearseBinary.runInterrupted(["run"], in: folder.path, signals: [(folder.path + "/started", SIGKILL)])
            #expect(killed.signal == SIGKILL)
            #expect(folder.exists("data-1/v2"))
            let recover = try await RehearseBinary.run(["recover"], in: folder.path)
            #expect(recover.status == 0, "\(recover.stdout)\(recover.stderr)")
            #expect(recover.stdout.contains("rolling back go-v2"))
            #expect(recover.stdout.contains("verified: restored checks passed; the fingerprint matches"))
            #expect(!folder.exists("data-1/v2"))
        }
    }

    @Test func aRollbackThatKeepsTheWindowsWritesPasses() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", Self.plan(rollback: #"'rm "$DATA/v2" "$DATA/snapshot"'"#))
            let outcome = try await RehearseBinary.run(["run"], in: folder.path)
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("ok    kept        the order is there"))
            let show = try await RehearseBinary.run(["show", "--json"], in: folder.path)
            let run = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["run"] as? [String: Any])
            #expect(run["fingerprint_control"] as? String == "order 1\norder 2\norder 3\n")
        }
    }
}
