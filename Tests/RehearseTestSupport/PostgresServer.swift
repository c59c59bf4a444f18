public import Foundation
import Synchronization

/// A real PostgreSQL server for the tests, from Debian's packages: the one `.ci/run` started
/// (`REHEARSE_TEST_POSTGRES_PORT`), else one started once per test process by the example's own
/// `scripts/server` (initdb in a folder of its own, loopback only, a free port, an unprivileged
/// user) and stopped when the process exits.
public enum PostgresServer {
    public struct Server: Sendable {
        public var port: Int
        public var folder: String
        /// libpq's variables that reach it: what a test gives `rehearse` (and its commands inherit).
        public var environment: [String: String] {
            ["PGHOST": "127.0.0.1", "PGPORT": String(port), "PGUSER": "postgres", "PGDATABASE": "postgres", "PGPASSWORD": ""]
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case cannotStart(String)
        public var description: String {
            switch self { case .cannotStart(let why): "cannot start a PostgreSQL server for the tests: \(why)" }
        }
    }

    /// The example's `server` script.
    public static let script = Fixtures.path("examples/postgres/scripts/server")

    /// PostgreSQL's server is installed (Debian's `postgresql`). In CI (`CI=true`) the tests run
    /// either way, so that a missing install fails them instead of skipping them.
    public static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        let found = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return found.contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/pg_ctl") }
    }()

    private static let started = Task<Result<Server, Failure>, Never> {
        // `.ci/run` starts one and names its port.
        if let given = ProcessInfo.processInfo.environment["REHEARSE_TEST_POSTGRES_PORT"].flatMap(Int.init) {
            return .success(Server(port: given, folder: ""))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rehearse-postgres-\(getpid())").path
        var last = ""
        // A port nobody else is on: a few tries at random ones.
        for _ in 0..<5 {
            let port = FreePort.pick()
            let outcome = try? await Tool.run("sh", ["-c", "PGPORT=\(port) \"$0\" start \"$1\" 2>&1", script, folder])
            if let outcome, outcome.status == 0 {
                running.withLock { $0 = folder }
                atexit { PostgresServer.stopAtExit() }
                return .success(Server(port: port, folder: folder))
            }
            last = outcome?.output ?? "sh is missing"
        }
        return .failure(.cannotStart(last))
    }

    /// The server, started on first use.
    public static func shared() async throws -> Server {
        try await started.value.get()
    }

    private static let running = Mutex<String?>(nil)

    private static func stopAtExit() {
        guard let folder = running.withLock({ $0 }) else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [script, "stop", folder]
        try? process.run()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A copy of the example in `folder` (its plan, scripts and migrations), to run or to break.
    public static func copyExample(to folder: TemporaryFolder) throws -> String {
        let destination = folder.path + "/postgres"
        try FileManager.default.copyItem(atPath: Fixtures.path("examples/postgres"), toPath: destination)
        try? FileManager.default.removeItem(atPath: destination + "/.rehearse")
        return destination
    }
}
