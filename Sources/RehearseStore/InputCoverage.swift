import Foundation
public import RehearseCore

/// `check`'s warning about the content hash: a step's command names a file of the project (the
/// plan's folder, or the folder around it) that the plan's `inputs:` do not cover, so editing
/// that file would not change what `gate` compares.
public enum InputCoverage {
    /// One warning per step and uncovered file, at the step.
    public static func warnings(for plan: Plan) -> [Diagnostic] {
        let planFolder = URL(fileURLWithPath: plan.file).deletingLastPathComponent().standardizedFileURL
        // The project: the folder that holds the plan's folder (`Rehearsals/`'s parent).
        let project = planFolder.deletingLastPathComponent().path
        let covered = Set(PlanContent.files(of: plan).map { planFolder.appendingPathComponent($0).standardizedFileURL.path })
        var warnings: [Diagnostic] = []
        for step in plan.steps {
            var seen = Set<String>()
            for command in [step.run, step.rollbackCommand].compactMap({ $0 }) {
                for word in words(command) where seen.insert(word).inserted {
                    let path = planFolder.appendingPathComponent(word).standardizedFileURL.path
                    guard path.hasPrefix(project + "/"), !covered.contains(path) else { continue }
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                    warnings.append(.warning(
                        at: step.location,
                        "step '\(step.id)' uses \(word), which the plan's 'inputs' do not cover: the gate would not see it change",
                        fix: "add it, or a glob that matches it, to 'inputs:' (paths relative to the plan)"))
                }
            }
        }
        return warnings
    }

    /// The words of a shell command that look like relative file paths: unquoted, with a `/` or a
    /// dot extension, no variables, no options, no absolute paths.
    static func words(_ command: String) -> [String] {
        var words: [String] = []
        for raw in command.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == ";" || $0 == "|" || $0 == "&" || $0 == "<" || $0 == ">" || $0 == "(" || $0 == ")" }) {
            let word = raw.trimmingCharacters(in: CharacterSet(charactersIn: "'\"`"))
            guard !word.isEmpty, !word.hasPrefix("-"), !word.hasPrefix("/"), !word.contains("$"), !word.contains("*"),
                  !word.contains("="), !word.contains("://")
            else { continue }
            let hasExtension = word.split(separator: "/").last.map { $0.contains(".") && !$0.hasPrefix(".") } ?? false
            if word.contains("/") || hasExtension { words.append(word) }
        }
        return words
    }
}
