import Foundation
public import RehearseCore

/// `check`'s warnings about the content hash: a command of the plan (a step, a check, the
/// fingerprint, a target's setup or teardown) names a file of the project (the plan's folder, or
/// the folder around it) that the plan's `inputs:` do not cover, so editing that file would not
/// change what `gate` compares; and an input that matches no file.
public enum InputCoverage {
    /// One warning per command and uncovered file, at the command's step, check or target.
    public static func warnings(for plan: Plan) -> [Diagnostic] {
        let planFolder = URL(fileURLWithPath: plan.file).deletingLastPathComponent().standardizedFileURL
        // The project: the folder that holds the plan's folder (`Rehearsals/`'s parent).
        let project = planFolder.deletingLastPathComponent().path
        let covered = Set(PlanContent.files(of: plan).map { planFolder.appendingPathComponent($0).standardizedFileURL.path })
        var warnings: [Diagnostic] = []
        for input in plan.inputs where PlanContent.glob(input.pattern, in: planFolder.path).isEmpty {
            warnings.append(.warning(at: input.location, "input '\(input.pattern)' matches no file",
                                     fix: "check the path: it is relative to the plan's folder"))
        }
        for user in commandUsers(plan) {
            var seen = Set<String>()
            for command in user.commands {
                for word in words(command) where seen.insert(word).inserted {
                    let path = planFolder.appendingPathComponent(word).standardizedFileURL.path
                    guard path.hasPrefix(project + "/"), !covered.contains(path) else { continue }
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                    warnings.append(.warning(
                        at: user.location,
                        "\(user.name) uses \(word), which the plan's 'inputs' do not cover: the gate would not see it change",
                        fix: "add it, or a glob that matches it, to 'inputs:' (paths relative to the plan)"))
                }
            }
        }
        return warnings
    }

    /// Everything in the plan that runs commands, named for a warning, with where it is written.
    private static func commandUsers(_ plan: Plan) -> [(name: String, location: SourceLocation, commands: [String])] {
        var users = plan.steps.map { step in
            (name: "step '\(step.id)'", location: step.location, commands: [step.run, step.rollbackCommand, step.stop].compactMap { $0 })
        }
        for (phase, checks) in [("preflight", plan.checks.preflight), ("smoke", plan.checks.smoke), ("restored", plan.checks.restored)] {
            users += checks.map { (name: "\(phase) check '\($0.name)'", location: $0.command.location, commands: [$0.command.run]) }
        }
        if let fingerprint = plan.fingerprint {
            users.append((name: "the fingerprint", location: fingerprint.location, commands: [fingerprint.run]))
        }
        for target in plan.targets {
            for (what, command) in [("setup", target.setup), ("teardown", target.teardown)] {
                if let command { users.append((name: "the \(what) of target '\(target.name)'", location: command.location, commands: [command.run])) }
            }
        }
        return users
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
