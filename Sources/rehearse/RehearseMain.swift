import ArgumentParser
import Foundation
import RehearseCLI

/// The `rehearse` executable: everything lives in RehearseCLI so tests can call it.
///
/// Exit codes are the product's contract (1 means a rollback over budget), so an error no command
/// expected, which ArgumentParser would report as 1, exits 70 (internal error) instead.
@main
struct RehearseMain {
    static func main() async {
        do {
            var command = try Rehearse.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            Rehearse.exit(withError: code)
        } catch {
            if Rehearse.exitCode(for: error) == .failure {
                FileHandle.standardError.write(Data("internal error: \(error)\n".utf8))
                exit(70)
            }
            Rehearse.exit(withError: error)
        }
    }
}
