public import ArgumentParser
import RehearseEngine

/// The `rehearse` command tree. The executable's `@main` only calls ``Rehearse/main()``, so tests
/// can parse and run every command in-process.
public struct Rehearse: AsyncParsableCommand {
    public static let version = RehearsalEngine.version

    public static let configuration = CommandConfiguration(
        commandName: "rehearse",
        abstract: "Rehearse a go-live's rollback on a copy of the live environment, and time it.",
        discussion: """
            Plans live in a Rehearsals/ folder (found from the current folder upward), one YAML \
            file per go-live: its strategy, steps with forward and rollback commands, targets, \
            checks and budget.

            With no command, 'rehearse' runs 'rehearse run'.

            Examples:
              rehearse init --strategy blue-green checkout   # write a first plan
              rehearse check                                 # validate, run nothing
              rehearse --target copy                         # rehearse every plan
              rehearse run Rehearsals/checkout.yml --fail-at switch
              rehearse history                               # recent runs
              rehearse compare                               # the latest two runs
              rehearse gate Rehearsals/checkout.yml --target production
              rehearse go Rehearsals/checkout.yml --target prod --approve prod
              rehearse rollback 42 --approve production
            """,
        version: version,
        subcommands: [
            RunCommand.self, CheckCommand.self, InitCommand.self, HistoryCommand.self, ShowCommand.self,
            CompareCommand.self, GateCommand.self, GoCommand.self, RollbackCommand.self, RecoverCommand.self, ReportCommand.self,
            RunbookCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )

    public init() {}
}

extension Console {
    /// Runs `body`, turning a ``CLIError`` into its message on stderr and its exit code. Any other
    /// error is the harness's own fault: its message, and exit 70.
    func reportingErrors(_ body: () async throws -> Void) async throws(ExitCode) {
        do {
            try await body()
        } catch let error as CLIError {
            if !error.message.isEmpty { err(error.description) }
            throw error.exitCode
        } catch let code as ExitCode {
            throw code
        } catch {
            err("error: internal error: \(error)")
            throw ExitCodes.internalError
        }
    }
}
