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
