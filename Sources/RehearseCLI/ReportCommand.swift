import ArgumentParser
import Foundation
import RehearseCore
import RehearseReports
import RehearseStore

/// The formats `report` writes.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case junit, json, markdown, html
}

/// `rehearse report`: a recorded run as JUnit XML, JSON, Markdown or HTML.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write recorded rehearsals as JUnit XML, JSON, Markdown or an HTML timeline.",
        discussion: """
            junit     one test suite per run, a test case per step phase and check, and "rollback \
            within budget" (valid against the Apache Ant JUnit schema CI systems read)
            json      the complete run records, with schema_version (fields: see the README)
            markdown  a summary table for a pull request or a CI summary page
            html      one self-contained page per run: a timeline of the forward and rollback \
            steps against the budget, the step table, and this plan's recent rollback times

            --group ID reports an every-cut group: JUnit has one test case per cut, HTML the \
            matrix of cuts against the budget, JSON and Markdown every run of the group.

            Examples:
              rehearse report --format junit -o rehearsal.xml      # the latest run
              rehearse report 41 --format markdown >> "$GITHUB_STEP_SUMMARY"
              rehearse report 40 41 --format json
              rehearse report --format html -o rehearsal.html
              rehearse report --group 3f2a9c1e --format html -o cuts.html
            """)

    @Argument(help: ArgumentHelp("Runs to report (default: the latest).", valueName: "run"))
    var runIDs: [Int64] = []

    @Option(name: .long, help: "junit, json, markdown or html.")
    var format: ReportFormat

    @Option(name: .long, help: ArgumentHelp("Report an every-cut group (its id, or the start of it).", valueName: "id"))
    var group: String?

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @OptionGroup var historyOptions: HistoryOptions

    func validate() throws {
        if format == .html, runIDs.count > 1 { throw ValidationError("--format html shows one run: name at most one") }
        if group != nil, !runIDs.isEmpty { throw ValidationError("name runs or --group, not both") }
    }

    func run() async throws {
        let console = Console()
        try await console.reportingErrors {
            guard let store = try await historyOptions.openExisting() else { throw CLIError.noHistory(historyOptions.path()) }
            if let group {
                let found = try await GroupLookup.find(group, in: store)
                let text: String = switch format {
                case .junit: JUnitReport.render(found.runs)
                case .json: HistoryJSON.report(found.runs)
                case .markdown: MarkdownReport.render(found.runs)
                case .html: HTMLReport.renderGroup(found.runs, group: found.group, cuts: found.cuts)
                }
                try ReportFile.write(text, to: output, console: console)
                return
            }
            var runs: [Run] = []
            var recent: [Run] = []
            do throws(HistoryError) {
                let ids: [Int64] = if runIDs.isEmpty { try await store.latestRunID().map { [$0] } ?? [] } else { runIDs }
                for id in ids {
                    guard let run = try await store.run(id: id) else {
                        throw HistoryError(.other, path: store.location, message: "there is no run \(id)", remedy: "'rehearse history' lists the runs")
                    }
                    runs.append(run)
                }
                if format == .html, let run = runs.first {
                    recent = try await store.recentRuns(plan: run.planName, limit: 30).filter { $0.target == run.target }
                }
            } catch {
                throw CLIError.history(error)
            }
            guard !runs.isEmpty else { throw CLIError.noHistory(store.location) }
            let text: String = switch format {
            case .junit: JUnitReport.render(runs)
            case .json: HistoryJSON.report(runs)
            case .markdown: MarkdownReport.render(runs)
            case .html: HTMLReport.render(runs[0], recent: recent)
            }
            try ReportFile.write(text, to: output, console: console)
        }
    }
}

/// Writing a report to a file (or standard output when no file is named).
enum ReportFile {
    static func write(_ text: String, to path: String?, console: Console) throws(CLIError) {
        guard let path else {
            console.out(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            return
        }
        do {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw CLIError.usage("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Appends to a file (a CI summary page), creating it when missing.
    static func append(_ text: String, to path: String) -> Bool {
        if !FileManager.default.fileExists(atPath: path) {
            return FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return false }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            return true
        } catch {
            return false
        }
    }
}
