import Foundation
import RehearseReports

/// Where the CLI writes, and whether it may use colour there.
///
/// Colour only on a terminal, never with `NO_COLOR` set (to anything) or `TERM=dumb`.
struct Console: Sendable {
    var environment: [String: String] = ProcessInfo.processInfo.environment

    var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    var colourAllowed: Bool {
        environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    var outStyle: TextStyle { TextStyle(enabled: colourAllowed && stdoutIsTerminal) }
    var errStyle: TextStyle { TextStyle(enabled: colourAllowed && stderrIsTerminal) }

    func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    func err(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
