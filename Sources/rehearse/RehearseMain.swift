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
        // Whatever the parent left: SIGCHLD at its default (ignored, children could not be waited
        // for), and SIGPIPE ignored (a reader that goes away, `rehearse run | head`, must not kill
        // the harness with steps applied: writes fail instead, and the rehearsal finishes).
        signal(SIGCHLD, SIG_DFL)
        signal(SIGPIPE, SIG_IGN)
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
