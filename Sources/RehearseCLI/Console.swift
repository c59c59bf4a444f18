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

    /// Every line goes out with anything that looks like a CI workflow command neutralized.
    func out(_ text: String) { Self.write(WorkflowCommandText.neutralized(text) + "\n", to: STDOUT_FILENO) }

    func err(_ text: String) { Self.write(WorkflowCommandText.neutralized(text) + "\n", to: STDERR_FILENO) }

    /// A workflow command `rehearse` means to give (its GitHub annotations), as it is.
    func workflowCommand(_ line: String) { Self.write(line + "\n", to: STDOUT_FILENO) }

    /// One write(2) per line, retried until all of it is out; no Foundation objects on this path,
    /// which runs twice per step.
    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
