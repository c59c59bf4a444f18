import ArgumentParser
import Foundation
@testable import RehearseCLI
import RehearseEngine
import RehearseStore
import RehearseTestSupport
import Testing

/// Option values are parsed once, typed: a bad one is a usage error (64) naming the option, on
/// every command, and nothing runs.
@Suite struct OptionValueTests {
    @Test(arguments: [
        (["run", "--kill-grace", "banana"], "--kill-grace"),
        (["recover", "--kill-grace", "banana"], "--kill-grace"),
        (["recover", "--kill-grace", "11m"], "--kill-grace"),
        (["gate", "Rehearsals/p.yml", "--target", "copy", "--within", "soon"], "--within"),
        (["gate", "Rehearsals/p.yml", "--target", "copy", "--within", "0s"], "--within"),
        (["init", "--strategy", "canary"], "--strategy"),
        (["report", "--format", "pdf"], "--format"),
        (["run", "--jobs", "0"], "--jobs"),
        // Issue 14, item 9: numbers past their range crashed (SIGILL, or a bad pointer).
        (["run", "--kill-grace", "277777h277777h277777h277777h277777h277777h277777h277777h277777h277777h"], "--kill-grace"),
        (["run", "--jobs", "9223372036854775807"], "--jobs"),
        (["run", "--every-cut", "--copies", "9223372036854775807"], "--copies"),
        (["compare", "--threshold-percent", "1e400"], "--threshold-percent"),
        (["compare", "--threshold-percent", "nan"], "--threshold-percent"),
        (["compare", "--threshold-ms", "9223372036854775807"], "--threshold-ms"),
        (["history", "--limit", "99999999999999999999"], "--limit"),
        (["go", "Rehearsals/p.yml", "--target", "copy", "--approve", "copy", "--watch", "9000h"], "--watch"),
    ])
    func aBadValueIsAUsageError(arguments: [String], option: String) async throws {
        try await TemporaryFolder.with { folder in
            try folder.write("Rehearsals/p.yml", """
                strategy: custom
                targets: { copy: {} }
                steps:
                  a: { run: 'touch ../ran', rollback: 'true' }
                """)
            let history = arguments[0] == "init" ? [] : ["--history", folder.path + "/h.sqlite"]
            let outcome = try await RehearseBinary.run(arguments + history, in: folder.path)
            #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains(option))
            #expect(!folder.exists("ran"))
            #expect(!folder.exists("h.sqlite"))
        }
    }
}

/// Every fault of the harness itself exits 70, never 1 (over budget) or 2 (failed).
@Suite struct HarnessFaultTests {
    @Test func engineFaultsAreInternalErrorsAndInvalidRecordedPlansAre65() {
        let history = HistoryError(.notWritable, path: "h.sqlite", message: "disk full", remedy: "free some space")
        #expect(CLIError(EngineError(.history(history), message: "h.sqlite: disk full")).exitCode == ExitCodes.internalError)
        #expect(CLIError(EngineError(.files, message: "cannot create the log folder")).exitCode == ExitCodes.internalError)
        #expect(CLIError(EngineError(.invalidPlan([], source: ""), message: "no longer parses")).exitCode == ExitCodes.invalidPlan)
    }

    @Test func anUnexpectedErrorExits70() async {
        struct Surprise: Error {}
        await #expect(throws: ExitCodes.internalError) {
            try await Console().reportingErrors { throw Surprise() }
        }
    }
}
