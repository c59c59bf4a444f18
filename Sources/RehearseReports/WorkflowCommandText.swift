import Foundation
/// Keeps text from a plan or a command's output from being read as a CI workflow command.
///
/// GitHub Actions executes a line of a job's output that starts, after leading spaces, with
/// `::` (`::error::`, `::add-mask::`, `::stop-commands::`), and the older form `##[command]`
/// anywhere in a line. `rehearse` writes such lines only on purpose (its annotations); in any
/// other line, a name or an output line that looks like one is shown with a backslash before it,
/// which no runner reads as a command.
public enum WorkflowCommandText {
    public static func neutralized(_ text: String) -> String {
        // Nearly every line has neither: one pass over the bytes decides.
        var colons = false, hashes = false
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ":"), previous == UInt8(ascii: ":") { colons = true }
            if byte == UInt8(ascii: "#"), previous == UInt8(ascii: "#") { hashes = true }
            previous = byte
        }
        guard colons || hashes else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var line = String(line).replacingOccurrences(of: "##[", with: "##\\[")
            let indent = line.prefix { $0 == " " || $0 == "\t" }
            if line.dropFirst(indent.count).hasPrefix("::") {
                line = String(indent) + "\\" + line.dropFirst(indent.count)
            }
            return line
        }.joined(separator: "\n")
    }
}
