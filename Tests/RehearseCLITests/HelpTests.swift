import ArgumentParser
import Foundation
@testable import RehearseCLI
import RehearseTestSupport
import Testing

/// Every command's `--help` carries an abstract and examples; `check`'s is pinned word for word.
@Suite struct HelpTests {
    static let commands: [(name: String, type: any ParsableCommand.Type)] = [
        ("rehearse", Rehearse.self), ("run", RunCommand.self), ("check", CheckCommand.self), ("init", InitCommand.self),
        ("history", HistoryCommand.self), ("show", ShowCommand.self), ("compare", CompareCommand.self),
        ("gate", GateCommand.self), ("go", GoCommand.self), ("rollback", RollbackCommand.self), ("recover", RecoverCommand.self), ("report", ReportCommand.self), ("runbook", RunbookCommand.self),
    ]

    @Test func everyCommandIsReachable() {
        let names = Rehearse.configuration.subcommands.map { $0.configuration.commandName }
        #expect(Set(names.compactMap { $0 }) == Set(Self.commands.map(\.name).dropFirst()))
        #expect(Rehearse.configuration.defaultSubcommand == RunCommand.self)
    }

    @Test(arguments: commands.map(\.name))
    func helpHasExamples(name: String) {
        let type = Self.commands.first { $0.name == name }!.type
        let help = Rehearse.helpMessage(for: type, columns: 100)
        #expect(help.contains("Examples:"))
        #expect(help.contains("  rehearse "))
        #expect(help.contains("USAGE:"))
        #expect(help.contains("OVERVIEW:"))
        #expect(!help.contains("\\\n"), "a line continuation written as a literal backslash")
    }

    /// Examples are read on an 80-column terminal: none may wrap.
    @Test(arguments: commands.map(\.name))
    func examplesFitAnEightyColumnTerminal(name: String) {
        let type = Self.commands.first { $0.name == name }!.type
        let discussion = type.configuration.discussion
        guard let examples = discussion.components(separatedBy: "Examples:\n").last else { return }
        for line in examples.split(separator: "\n") where line.hasPrefix("  ") {
            #expect(line.count <= 78, "\(name): \(line)")
        }
    }

    /// Every command's `--help` is pinned word for word in `Fixtures/help/NAME.txt`: a change to a
    /// command's options or text shows up here, to be read and accepted. To accept, run the tests
    /// with REHEARSE_UPDATE_GOLDEN=1, then review the diff of Fixtures/help/.
    @Test(arguments: commands.map(\.name))
    func helpMatchesItsGoldenFile(name: String) throws {
        let type = Self.commands.first { $0.name == name }!.type
        let help = Rehearse.helpMessage(for: type, columns: 100)
        let file = Fixtures.path("help/\(name).txt")
        if ProcessInfo.processInfo.environment["REHEARSE_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: Fixtures.path("help"), withIntermediateDirectories: true)
            try Data(help.utf8).write(to: URL(fileURLWithPath: file))
        }
        let golden = try String(contentsOfFile: file, encoding: .utf8)
        #expect(help == golden, "rehearse \(name) --help changed; see Fixtures/help/\(name).txt")
    }

    @Test func initHelpListsEveryStrategy() {
        let help = Rehearse.helpMessage(for: InitCommand.self, columns: 100)
        for id in ["blue-green", "in-place", "dual-write", "cut-and-fill", "custom"] {
            #expect(help.contains("  \(id) "))
        }
    }
}
