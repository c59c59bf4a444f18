import ArgumentParser
import Foundation
import RehearseCore
import RehearseStore

/// `rehearse history import FILE...`: merges other histories into this one.
struct HistoryImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add the runs of other history files (CI artifacts, exports) that this history lacks.",
        discussion: """
            Each run keeps its plan text, activities, fingerprints and verdict, and gets a number \\
            of this history's; a run this history already has (the same globally unique id) is \\
            not added again, so importing a file twice adds nothing. Runs still running where \\
            they were recorded are left out. The files are only read; a file from a newer \\
            rehearse, or not a rehearse history, is refused.

            Examples:
              rehearse history import artifacts/*/history.sqlite
              rehearse history import laptop.sqlite --history .rehearse/team.sqlite
              rehearse history import shard-*.sqlite --history postgresql://ci@db/rehearse
            """)

    @Argument(help: ArgumentHelp("History files to merge into this one.", valueName: "file"))
    var files: [String]

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one history file to import") }
        for file in files where HistoryLocation(file).isURL {
            throw ValidationError("\(HistoryLocation(file)) is not a history file: import files into a PostgreSQL history named with --history URL")
        }
    }

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            let path = historyOptions.path()
            let store = try await HistoryOptions.open(path, console: console)
            for file in files {
                let summary: ImportSummary
                do throws(HistoryError) {
                    summary = try await store.importRuns(from: file)
                } catch {
                    throw CLIError.history(error)
                }
                console.out("\(PrintableText.of(file)): \(summary.added) run(s) added, \(summary.alreadyThere) already here"
                            + (summary.unfinished > 0 ? ", \(summary.unfinished) still running there (left out)" : ""))
            }
        }
    }
}

/// `rehearse history export FILE [--since DATE]`: the runs another machine needs, as a new file.
struct HistoryExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write this history's finished runs (since a date) to a new history file, for another machine to import.",
        discussion: """
            The file is a history of its own (open it with --history, or 'history import' it \\
            elsewhere). It must not exist yet.

            Examples:
              rehearse history export runs.sqlite
              rehearse history export last-week.sqlite --since 2026-11-29
              rehearse history export today.sqlite --since 2026-12-06T06:00:00Z
              rehearse history export team.sqlite --history postgresql://ci@db/rehearse
            """)

    @Argument(help: ArgumentHelp("The new history file to write.", valueName: "file"))
    var file: String

    @Option(name: .long, help: ArgumentHelp("Only runs started at or after this moment (YYYY-MM-DD, UTC, or an ISO 8601 time).", valueName: "date"),
            transform: HistoryExportCommand.moment)
    var since: Date?

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        if HistoryLocation(file).isURL {
            throw ValidationError("\(HistoryLocation(file)) is not a file: export writes a history file (a PostgreSQL history is named with --history URL)")
        }
    }

    /// `2026-12-01` (midnight UTC) or `2026-12-01T06:00:00Z`.
    static func moment(_ text: String) throws -> Date {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: text) { return date }
        throw ValidationError("'\(text)' is not a date: write 2026-12-01 (UTC) or 2026-12-01T06:00:00Z")
    }

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            guard let store = try await historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
            let summary: ImportSummary
            do throws(HistoryError) {
                summary = try await store.exportRuns(to: file, since: since)
            } catch {
                throw CLIError.history(error)
            }
            console.out("\(PrintableText.of(file)): \(summary.added) run(s) exported"
                        + (summary.unfinished > 0 ? " (\(summary.unfinished) still running, left out)" : ""))
        }
    }
}
