import Foundation
import GRDB
import RehearseCore
@testable import RehearseStore
import RehearseTestSupport
import Testing

/// What only the PostgreSQL history does: refusing a newer or a foreign schema without changing
/// it, telling a dead harness on another host from a live one, and never showing the password.
@Suite(.enabled(if: PostgresServer.isAvailable, "PostgreSQL is not installed"))
struct PostgresHistoryTests {
    static func open(_ location: String, in folder: TemporaryFolder) async throws -> any HistoryStore {
        try await HistoryLocation(location).open(localFolder: folder.path + "/.rehearse")
    }

    /// A history whose harnesses of other hosts count as gone once silent for `silence`.
    static func open(_ location: String, in folder: TemporaryFolder, abandonAfter silence: Duration) async throws -> PostgresHistory {
        try await PostgresHistory(url: try #require(PostgresURL(location)), localFolder: folder.path + "/.rehearse", abandonAfter: silence)
    }

    /// Ends the server's sessions of application `name` (as a restarted server or a cut network
    /// would) and waits until their server processes are gone (so their
    /// end has been said to the client), not only signalled: a statement sent in between meets
    /// the cut in flight, which is another test's case.
    static func terminateSessions(of name: String, in url: String) async throws {
        let pids = try await PostgresServer.sql("SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = '\(name)'", in: url)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !pids.isEmpty else { return }
        _ = try await PostgresServer.sql("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE pid IN (\(pids))", in: url)
        // (On a loaded machine the wait above may end first.) Those processes, not a new session of the same name.
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let left = try await PostgresServer.sql("SELECT count(*) FROM pg_stat_activity WHERE pid IN (\(pids))", in: url)
            if left.trimmingCharacters(in: .whitespacesAndNewlines) == "0" { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// What `store` marks abandoned, once the server has seen a closed connection's end (a moment).
    static func abandoned(by store: any HistoryStore) async throws -> [Int64] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let marked = try await store.markAbandoned().map(\.id)
            if !marked.isEmpty || ContinuousClock.now > deadline { return marked }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func contents(_ url: String) async throws -> String {
        try await PostgresServer.sql("""
            SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'rehearse';
            SELECT string_agg(id, ',' ORDER BY id) FROM rehearse.migrations;
            SELECT count(*) FROM rehearse.run;
            """, in: url)
    }

    @Test func aDatabaseFromANewerVersionIsRefusedAndLeftAsItWas() async throws {
        try await TemporaryFolder.with { folder in
            let url = try await PostgresServer.freshDatabase()
            let store = try await Self.open(url, in: folder)
            _ = try await store.beginRun(HistoryStoreContractTests.start())
            _ = try await PostgresServer.sql("INSERT INTO rehearse.migrations (id) VALUES ('pg9: from the future')", in: url)
            let before = try await Self.contents(url)
            await #expect { try await Self.open(url, in: folder) } throws: { error in
                guard let error = error as? HistoryError else { return false }
                return error.code == .newerVersion && error.message.contains("pg9: from the future")
            }
            #expect(try await Self.contents(url) == before)
        }
    }

    @Test func anotherApplicationsSchemaNamedRehearseIsRefusedUntouched() async throws {
        try await TemporaryFolder.with { folder in
            let url = try await PostgresServer.freshDatabase()
            _ = try await PostgresServer.sql("CREATE SCHEMA rehearse; CREATE TABLE rehearse.orders (id int)", in: url)
            await #expect { try await Self.open(url, in: folder) } throws: { error in
                guard let error = error as? HistoryError else { return false }
                return error.code == .notADatabase && error.message.contains("orders")
            }
            let tables = try await PostgresServer.sql("SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = 'rehearse'", in: url)
            #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "orders")
        }
    }

    /// The SQLite file cannot tell whether a harness on another host lives; PostgreSQL can: its
    /// connection holds the run's advisory lock until it ends.
    @Test func aRunOfAnotherHostIsAbandonedOnlyOnceItsHarnessIsGone() async throws {
        try await TemporaryFolder.with { folder in
            let url = try await PostgresServer.freshDatabase()
            var writer: (any HistoryStore)? = try await Self.open(url, in: folder)
            let id = try await writer!.beginRun(HistoryStoreContractTests.start(pid: 4242, host: "ci-runner-7")).id
            let reader = try await Self.open(url, in: folder, abandonAfter: .milliseconds(500))
            #expect(try await reader.markAbandoned().isEmpty)
            #expect(try await reader.run(id: id)?.status == .running)
            // Its lock alone is not enough: its heartbeat says it lives (it may be taking a new session).
            let patient = try await Self.open(url, in: folder, abandonAfter: .seconds(600))
            writer = nil  // the harness on ci-runner-7 is gone, and its connection with it
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await patient.markAbandoned().isEmpty)
            #expect(try await Self.abandoned(by: reader) == [id])
            #expect(try await reader.run(id: id)?.status == .abandoned)
        }
    }

    /// A finished run's liveness lock is let go: a later `markAbandoned` leaves finished runs
    /// alone, and a reopened run (`go --finish`) is alive while it is reopened.
    @Test func aReopenedRunIsAliveWhileItsHolderLives() async throws {
        try await TemporaryFolder.with { folder in
            let url = try await PostgresServer.freshDatabase()
            let first = try await Self.open(url, in: folder, abandonAfter: .milliseconds(500))
            let run = try await HistoryStoreContractTests.finish(try await first.beginRun(HistoryStoreContractTests.start()), in: first, status: .applied)
            var holder: (any HistoryStore)? = try await Self.open(url, in: folder)
            let elsewhere = RunProvenance(host: "laptop-3", user: "u", pid: 77, toolVersion: "t", gitCommit: nil)
            #expect(try await holder!.reopenRun(run.id, expected: .applied, by: elsewhere))
            #expect(try await first.markAbandoned().isEmpty)
            holder = nil
            #expect(try await Self.abandoned(by: first) == [run.id])
        }
    }

    /// A session cut while a run holds its target: the harness takes a new one with the same
    /// locks, and no one else gets the target meanwhile (its run still beats).
    @Test func aLostSessionIsTakenAgainWithItsLocksAndTheTargetStaysHeld() async throws {
        try await TemporaryFolder.with { folder in
            let base = try await PostgresServer.freshDatabase()
            let holder = try await Self.open(base + "?application_name=rehearse-cut", in: folder)
            let other = try await Self.open(base, in: folder)
            let run = try await holder.beginRun(HistoryStoreContractTests.start())
            let lease = try await holder.lockTarget("copy", copy: 1, holder: TargetHolder(run: run.id, plan: "p", host: "h", pid: 1, since: Date()), wait: .zero)
            try await Self.terminateSessions(of: "rehearse-cut", in: base)
            // Free on the server now, but not to be had.
            await #expect(throws: TargetLock.Failure.self) { try await other.lockTarget("copy", copy: 1, holder: TargetHolder(plan: "q", host: "h", pid: 2, since: Date()), wait: .zero) }
            #expect(try await other.markAbandoned().isEmpty)
            try await holder.confirmSession()   // a new session, the same locks
            await #expect(throws: TargetLock.Failure.self) { try await other.lockTarget("copy", copy: 1, holder: TargetHolder(plan: "q", host: "h", pid: 2, since: Date()), wait: .zero) }
            _ = try await HistoryStoreContractTests.finish(run, in: holder)
            lease.release()
            let taken = try await other.lockTarget("copy", copy: 1, holder: TargetHolder(plan: "q", host: "h", pid: 2, since: Date()), wait: .seconds(10))
            taken.release()
        }
    }

    /// When another harness took the target while the session was gone (its holder silent past
    /// the history's limit), the harness cannot take its locks again: it says so, and stops.
    @Test func aSessionWhoseLocksWereTakenMeanwhileFails() async throws {
        try await TemporaryFolder.with { folder in
            let base = try await PostgresServer.freshDatabase()
            let holder = try await Self.open(base + "?application_name=rehearse-taken", in: folder)
            let other = try await Self.open(base, in: folder, abandonAfter: .milliseconds(1))
            // (Of another host: one of this host is alive while its process is.)
            let run = try await holder.beginRun(HistoryStoreContractTests.start(host: "ci-runner-9"))
            let lease = try await holder.lockTarget("copy", copy: 1, holder: TargetHolder(run: run.id, plan: "p", host: "h", pid: 1, since: Date()), wait: .zero)
            try await Self.terminateSessions(of: "rehearse-taken", in: base)
            try await Task.sleep(for: .milliseconds(20))
            let taken = try await other.lockTarget("copy", copy: 1, holder: TargetHolder(plan: "q", host: "h", pid: 2, since: Date()), wait: .seconds(10))
            await #expect { try await holder.confirmSession() } throws: { error in
                (error as? HistoryError)?.code == .lost && "\(error)".contains("another session holds one of its locks")
            }
            taken.release()
            lease.release()
        }
    }

    /// A run another harness marked abandoned while this one's session was gone (30 s of silence
    /// from another host) is not this one's to go on with: no command of it starts.
    @Test func aRunMarkedAbandonedMeanwhileStartsNothingMore() async throws {
        try await TemporaryFolder.with { folder in
            let base = try await PostgresServer.freshDatabase()
            let holder = try await Self.open(base + "?application_name=rehearse-marked", in: folder)
            let other = try await Self.open(base, in: folder, abandonAfter: .milliseconds(1))
            let run = try await holder.beginRun(HistoryStoreContractTests.start(host: "ci-runner-11"))
            try await Self.terminateSessions(of: "rehearse-marked", in: base)
            #expect(try await Self.abandoned(by: other) == [run.id])
            await #expect { try await holder.activityStarted(run: run.id, Activity(.rollback, "a"), offset: .zero) } throws: { error in
                (error as? HistoryError)?.code == .lost
            }
            #expect(try await other.run(id: run.id)?.activities.isEmpty == true)
        }
    }

    /// A server that stops answering (its backend frozen) ends a statement at the answer timeout,
    /// not never.
    @Test func aFrozenServerEndsAStatementInsteadOfHangingForever() async throws {
        try await TemporaryFolder.with { folder in
            let base = try await PostgresServer.freshDatabase()
            let holder = try await Self.open(base + "?application_name=rehearse-frozen", in: folder)
            _ = try await holder.beginRun(HistoryStoreContractTests.start())
            let pid = try await PostgresServer.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'rehearse-frozen'", in: base)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let backend = try #require(Int32(pid))
            kill(backend, SIGSTOP)
            defer { kill(backend, SIGCONT) }
            let started = ContinuousClock.now
            // The frozen backend still holds the run's lock: the new session cannot take it.
            await #expect(throws: HistoryError.self) { try await holder.confirmSession() }
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }

    @Test func anUnreachableServerIsAClearErrorWithoutThePassword() async throws {
        try await TemporaryFolder.with { folder in
            let url = "postgresql://alice:\(PostgresServer.urlPassword)@127.0.0.1:1/history"
            await #expect { try await Self.open(url, in: folder) } throws: { error in
                guard let error = error as? HistoryError else { return false }
                let text = "\(error)"
                return error.code == .unreachable && !text.contains(PostgresServer.urlPassword)
                    && text.contains("postgresql://alice@127.0.0.1:1/history") && text.contains("cannot connect")
            }
        }
    }

    /// PostgreSQL's text holds no NUL: a command's output with one is kept, the NUL as U+FFFD.
    @Test func anOutputWithANulCharacterIsKept() async throws {
        try await TemporaryFolder.with { folder in
            let store = try await Self.open(try await PostgresServer.freshDatabase(), in: folder)
            let run = try await store.beginRun(HistoryStoreContractTests.start())
            let output = ActivityRecord(Activity(.forward, "a"), outcome: ProcessOutcome(termination: .exited(0), outputTail: "a\u{0}b"),
                                        startOffset: .zero, duration: .milliseconds(1))
            try await store.activityFinished(run: run.id, row: nil, output)
            #expect(try await store.run(id: run.id)?.activities.first?.outputTail == "a\u{FFFD}b")
        }
    }
}

/// What `--history` shows of a URL: user, host, port and database, never a password, however
/// the URL spells it (libpq reads it; the tests need libpq, from PostgreSQL's packages).
@Suite(.enabled(if: PostgresServer.isAvailable, "PostgreSQL is not installed"))
struct PostgresURLTests {
    @Test(arguments: [
        ("postgresql://alice:s3cret@db.example:5432/history", "postgresql://alice@db.example:5432/history"),
        ("postgres://alice:s3cret@db/history?sslmode=require&password=s3cret", "postgres://alice@db/history"),
        ("postgresql://alice@db/history?password=s3cret", "postgresql://alice@db/history"),
        ("postgresql://alice@db/history?%70assword=s3cret&pass%77ord=s3cret", "postgresql://alice@db/history"),
        ("postgresql://alice@db/history?sslpassword=s3cret", "postgresql://alice@db/history"),
        ("postgresql://al%40ce:p%40ss@db/history", "postgresql://al@ce@db/history"),
        ("postgresql://alice:pa?ss@db/history", "postgresql://alice@db/history"),
        ("postgresql:///history?host=/var/run/postgresql", "postgresql:///history?host=/var/run/postgresql"),
        ("POSTGRESQL://u:s3cret@h/d", "postgresql://u@h/d"),
    ])
    func thePasswordIsNeverShown(url: String, shown: String) throws {
        let parsed = try #require(PostgresURL(url))
        #expect(parsed.description == shown)
        #expect(HistoryLocation(url).description == shown)
    }

    /// URLs libpq reads otherwise than meant, or not at all: nothing of the password is shown.
    @Test(arguments: [
        "postgresql://alice:sec/ret123@db/history", "postgresql://alice:secret%zz@db/history", "postgresql://alice:secret123@[::1:5432/h",
        "postgresql://alice:secret123%@db/h",
    ])
    func aMalformedURLShowsNoPartOfThePassword(url: String) async throws {
        let parsed = try #require(PostgresURL(url))
        for secret in ["sec/ret123", "secret", "ret123"] { #expect(!parsed.description.contains(secret), "\(parsed.description)") }
        await #expect { try await PostgresHistory(url: parsed, localFolder: "/tmp/unused") } throws: { error in
            let text = "\(error)"
            return !text.contains("secret") && !text.contains("ret123")
        }
    }

    @Test func filesAreNotURLs() {
        #expect(PostgresURL(".rehearse/history.sqlite") == nil)
        #expect(PostgresURL("postgresql.sqlite") == nil)
        #expect(HistoryLocation("postgres.db") == .file("postgres.db"))
    }

    @Test func aConnectTimeoutKeepalivesAndTheApplicationAreAddedUnlessGiven() throws {
        let defaults = try #require(PostgresURL("postgresql://u@h/d")).connectionParameters().get()
        #expect(defaults.first { $0.keyword == "connect_timeout" }?.value == "10")
        #expect(defaults.first { $0.keyword == "application_name" }?.value == "rehearse")
        #expect(defaults.first { $0.keyword == "keepalives_idle" }?.value == "15")
        let given = try #require(PostgresURL("postgresql://u@h/d?connect_timeout=3")).connectionParameters().get()
        #expect(given.filter { $0.keyword == "connect_timeout" }.map(\.value) == ["3"])
    }
}

@Suite struct PostgresRecordsTests {
    /// The PostgreSQL store writes the columns the SQLite store's records have: the two lists
    /// cannot drift apart.
    @Test func thePostgresColumnsAreTheSQLiteRecordsColumns() throws {
        let (row, _) = SQLiteHistory.startingRow(for: HistoryStoreContractTests.start(), logsFolder: nil)
        let sqlite = Set(try row.databaseDictionary.keys).subtracting(["id"])
        #expect(Set(RunRow.postgresColumns.map { $0.trimmingCharacters(in: ["\""]) }) == sqlite)
        let activity = ActivityRow(id: nil, runId: 1, kind: "forward", name: "a", status: "passed", startOffsetNs: nil, durationNs: nil,
                                   exitStatus: nil, signal: nil, timedOut: false, outputTail: nil, logFile: nil, error: nil)
        #expect(Set(ActivityRow.postgresColumns) == Set(try activity.databaseDictionary.keys).subtracting(["id"]))
        #expect(ActivityRow.postgresColumns.count == activity.postgresValues.count)
    }
}
