import Foundation

/// A target's environment values may refer to what differs between runs and copies:
/// `$REHEARSE_COPY` and `$REHEARSE_RUN_ID` (or `${…}`), so that copies side by side get their own
/// folder and port. Nothing else is expanded: the shell does the rest when commands run.
enum TargetEnvironment {
    static func expand(_ value: String, _ variables: [String: String]) -> String {
        guard value.contains("$") else { return value }
        var result = value
        // Longest names first, so that a name that prefixes another is not replaced inside it.
        for (name, replacement) in variables.sorted(by: { $0.key.count > $1.key.count }) {
            result = result.replacingOccurrences(of: "${\(name)}", with: replacement)
            result = replacingWord("$" + name, in: result, with: replacement)
        }
        return result
    }

    /// Replaces `$NAME` where it is not followed by another name character (`$REHEARSE_COPYX` stays).
    private static func replacingWord(_ word: String, in text: String, with replacement: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let range = rest.range(of: word) {
            output += rest[..<range.lowerBound]
            let next = rest[range.upperBound...].first
            if let next, next.isASCII, next.isLetter || next.isNumber || next == "_" {
                output += word
            } else {
                output += replacement
            }
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
