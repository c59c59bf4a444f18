import Foundation
import Glibc
import RehearseTestSupport
import Testing

/// Issue 14, item 11: a FIFO or a device given as a plan or a history is refused at once,
/// before anything is read or created (a FIFO used to hang `check` and `--history` for good).
@Suite struct SpecialFilesTests {
    /// `rehearse ARGUMENTS` in `folder`, stopped after 20 s: a hang fails the test, it does not
    /// hold the suite.
    func rehearse(_ arguments: [String], in folder: String) async throws -> (status: Int32, output: String) {
        let quoted = ([RehearseBinary.url.path] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
        let result = try #require(try await Tool.run("sh", ["-c", "cd '\(folder)' && exec timeout 20 \(quoted)"]))
        return (result.status, result.output)
    }

    let plan = "strategy: custom\ntargets: { copy: {} }\nsteps:\n  a: { run: 'touch ran', rollback: 'true' }\n"

    @Test func aFIFOPlanIsRefusedDirectlyAndByDiscovery() async throws {
        try await TemporaryFolder.with { folder in
            try FileManager.default.createDirectory(atPath: folder.path + "/Rehearsals", withIntermediateDirectories: true)
            #expect(mkfifo(folder.path + "/Rehearsals/p.yml", 0o600) == 0)
            for arguments in [["check", "Rehearsals/p.yml"], ["check"], ["run", "--history", "h.sqlite"]] {
                let outcome = try await rehearse(arguments, in: folder.path)
                #expect(outcome.status == 65, "\(arguments): \(outcome.output)")
                #expect(outcome.output.contains("Rehearsals/p.yml: error: is a FIFO (named pipe), not a plan file"))
            }
            #expect(!folder.exists("h.sqlite"))
        }
    }

    @Test(arguments: ["fifo", "fifo-wal", "device", "folder"])
    func aHistoryThatIsNoRegularFileIsRefusedBeforeAnythingIsCreated(kind: String) async throws {
        try await TemporaryFolder.with { folder in
            _ = try folder.write("p.yml", plan)
            var history = folder.path + "/h.sqlite"
            switch kind {
            case "fifo": #expect(mkfifo(history, 0o600) == 0)
            case "fifo-wal": #expect(mkfifo(history + "-wal", 0o600) == 0)
            case "folder": try FileManager.default.createDirectory(atPath: history, withIntermediateDirectories: false)
            default: history = "/dev/null"
            }
            for arguments in [["run", "p.yml"], ["history"], ["gate", "p.yml", "--target", "copy"]] {
                let outcome = try await rehearse(arguments + ["--history", history], in: folder.path)
                // Beside no history, a reader has nothing to open: it says so (and never hangs).
                if kind == "fifo-wal", arguments[0] != "run" {
                    #expect(outcome.status != 124 && outcome.output.contains("never rehearsed") || outcome.output.contains("no rehearsals recorded"))
                    continue
                }
                #expect(outcome.status == 70, "\(kind) \(arguments): \(outcome.output)")
                #expect(outcome.output.contains(kind == "folder" ? "is a folder" : kind == "device" ? "is a character device" : "is a FIFO"),
                        "\(outcome.output)")
                #expect(outcome.output.contains("nothing was changed"))
            }
            #expect(!folder.exists("ran"))
            #expect(!FileManager.default.fileExists(atPath: history + "-journal"))
            if kind == "fifo-wal" { #expect(!folder.exists("h.sqlite")) }
        }
    }
}
