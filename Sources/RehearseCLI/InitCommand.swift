import ArgumentParser
import Foundation
import RehearseCore

/// `rehearse init`: scaffold a commented plan from a strategy.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented plan for a deploy strategy into Rehearsals/.",
        discussion: """
            The plan has one step per slot of the strategy, in the strategy's order, with \
            placeholder commands that fail loudly until you replace them. It passes 'rehearse check' \
            as written. An existing file is never overwritten.

            Strategies:
            \(Strategy.all.map { "  \($0.id.padding(toLength: 13, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n"))

            Examples:
              # writes Rehearsals/checkout.yml
              rehearse init --strategy blue-green checkout
              rehearse init --strategy in-place billing-v3
              rehearse init --strategy custom
            """)

    @Option(name: .long, help: ArgumentHelp("The deploy strategy: \(Strategy.all.map(\.id).joined(separator: ", ")).", valueName: "strategy"),
            transform: ArgumentTypes.strategy)
    var strategy: Strategy

    @Argument(help: "The plan's name, used for its file name (default: the strategy's name).")
    var name: String?

    func validate() throws {
        if let name {
            let valid = name.first.map { $0.isLetter || $0.isNumber } == true
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
            guard valid else {
                throw ValidationError("plan name '\(name)' may only contain letters, digits, '-', '_' and '.', starting with a letter or digit")
            }
        }
    }

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            let name = name ?? strategy.id
            let discovery = PlanDiscovery()
            let folder = discovery.rehearsalsFolder()
                ?? URL(fileURLWithPath: discovery.currentDirectory).appendingPathComponent(PlanDiscovery.folderName)
            let file = folder.appendingPathComponent("\(name).yml")
            let shown = discovery.displayPath(file.path)
            if FileManager.default.fileExists(atPath: file.path) {
                throw CLIError.usage("\(shown) already exists; init never overwrites a plan", fix: "choose another name, or edit the existing plan")
            }
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let text = PlanTemplate.text(strategy: strategy, name: name)
                guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8)) else {
                    throw CLIError.usage("cannot write \(shown)", fix: "check the folder's permissions")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.usage("cannot create \(discovery.displayPath(folder.path)): \(error.localizedDescription)")
            }
            let slots = strategy.slots.isEmpty ? 2 : strategy.slots.count
            let article = strategy.id.first.map { "aeiou".contains($0) } == true ? "an" : "a"
            console.out("wrote \(shown): \(article) \(strategy.id) plan with \(slots) steps")
            console.out("next: replace its TODO commands, then run 'rehearse check \(shown)'")
        }
    }
}
