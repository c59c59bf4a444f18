import Foundation
import RehearseStore
import RehearseTestSupport
import Testing

/// One run per target and copy: the lock file beside the history.
@Suite struct TargetLockTests {
    static func holder(_ run: Int64?, plan: String = "p") -> TargetHolder {
        TargetHolder(run: run, plan: plan, host: "test-host", pid: 4242, since: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func aSecondHolderIsRefusedAndToldWhoHoldsIt() async throws {
        try await TemporaryFolder.with { folder in
            let history = folder.path + "/history.sqlite"
            let first = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(nil))
            first.record(Self.holder(12, plan: "checkout"))
            do throws(TargetLock.Failure) {
                _ = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(13))
                Issue.record("a second lock of the same copy was granted")
            } catch {
                guard case .busy(let target, let copy, let holder, _) = error else { Issue.record("\(error)"); return }
                #expect(target == "copy" && copy == 1)
                #expect(holder == Self.holder(12, plan: "checkout"))
                #expect(error.description.contains("run 12 of checkout (host test-host, pid 4242, since 2027-01-15 08:00:00 UTC)"), "\(error)")
            }
            first.release()
            let again = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(13))
            again.release()
        }
    }

    @Test func otherTargetsAndOtherCopiesNeverWait() async throws {
        try await TemporaryFolder.with { folder in
            let history = folder.path + "/history.sqlite"
            let held = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(1))
            let otherCopy = try await TargetLock.acquire(target: "copy", copy: 2, besideHistory: history, holder: Self.holder(2))
            let otherTarget = try await TargetLock.acquire(target: "staging", copy: 1, besideHistory: history, holder: Self.holder(3))
            for lock in [held, otherCopy, otherTarget] { lock.release() }
        }
    }

    @Test func aWaiterGetsItWhenTheHolderLetsGo() async throws {
        try await TemporaryFolder.with { folder in
            let history = folder.path + "/history.sqlite"
            let held = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(1))
            let releaser = Task {
                try await Task.sleep(for: .milliseconds(150))
                held.release()
            }
            let waited = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(2), wait: .seconds(60))
            try await releaser.value
            waited.release()
        }
    }

    @Test func aLockFolderThatIsAFileMakesTheLockUnusable() async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("locks", "not a folder")
            do throws(TargetLock.Failure) {
                _ = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: folder.path + "/history.sqlite", holder: Self.holder(1))
                Issue.record("a lock was granted without a lock folder")
            } catch {
                guard case .unusable = error else { Issue.record("\(error)"); return }
            }
        }
    }

    /// The lock goes with the process that held it, however it ends: a child that holds it and
    /// is killed with SIGKILL frees it. (flock(1) in a child: the same kernel lock.)
    @Test func aLockHeldByAKilledProcessIsReleased() async throws {
        try await TemporaryFolder.with { folder in
            let history = folder.path + "/history.sqlite"
            let first = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(1))
            first.release()
            let path = TargetLock.folder(besideHistory: history) + "/copy.copy-1.lock"
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/bin/sh")
            // The lock on fd 9 of the process that becomes `sleep`: killing it is killing the holder.
            holder.arguments = ["-c", "exec 9>>\"$0\" && flock 9 && exec sleep 30", path]
            try holder.run()
            // Until the child holds it.
            var refused = false
            for _ in 0..<200 where !refused {
                do {
                    let lock = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(2))
                    lock.release()
                    try await Task.sleep(for: .milliseconds(10))
                } catch {
                    refused = true
                }
            }
            #expect(refused)
            kill(holder.processIdentifier, SIGKILL)
            let lock = try await TargetLock.acquire(target: "copy", copy: 1, besideHistory: history, holder: Self.holder(3), wait: .seconds(30))
            lock.release()
            holder.waitUntilExit()
        }
    }
}
