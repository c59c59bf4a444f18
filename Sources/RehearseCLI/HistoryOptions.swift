import ArgumentParser
import Foundation
import RehearseRunner
import RehearseStore

/// `--history PATH`, shared by every command that reads or writes the history.
struct HistoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The history database (default: $REHEARSE_HISTORY, else .rehearse/history.sqlite beside the nearest Rehearsals/).",
        valueName: "path"))
    var history: String?

    /// The history file for commands that work from the current folder.
    func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let history { return history }
        if let fromEnvironment = environment["REHEARSE_HISTORY"], !fromEnvironment.isEmpty { return fromEnvironment }
        let discovery = PlanDiscovery()
        let root = discovery.rehearsalsFolder()?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: discovery.currentDirectory)
        return discovery.displayPath(root.appendingPathComponent(ProjectLayout.stateFolderName).appendingPathComponent("history.sqlite").path)
    }

    /// The history file for a rehearsal of `plan`: beside the Rehearsals/ that holds it, unless overridden.
    func path(forPlan plan: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let history { return history }
        if let fromEnvironment = environment["REHEARSE_HISTORY"], !fromEnvironment.isEmpty { return fromEnvironment }
        return PlanDiscovery().displayPath(ProjectLayout.stateFolder(forPlan: plan).appendingPathComponent("history.sqlite").path)
    }

    /// Opens the history to read it: nil when there is none yet; abandoned runs are marked first.
    func openExisting() throws(CLIError) -> HistoryStore? {
        let path = path()
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try Self.open(path)
    }

    /// Opens a history, marks runs whose harness died as abandoned, and stops the processes their
    /// steps left running (a harness killed with SIGKILL cannot do that itself).
    static func open(_ path: String, console: Console = Console()) throws(CLIError) -> HistoryStore {
        do {
            let store = try HistoryStore(path: path)
            for run in try store.markAbandoned() {
                guard let mark = run.processMark else { continue }
                let stopped = StrayProcesses.stop(marked: mark)
                if !stopped.isEmpty {
                    console.err("run \(run.id) was abandoned by a harness that died; stopped \(stopped.count) process(es) its steps left running")
                }
            }
            return store
        } catch {
            throw CLIError(kind: .internal, message: "\(error.path): \(error.message)", fix: error.remedy)
        }
    }
}

extension CLIError {
    /// A history read or write that failed after opening.
    static func history(_ error: HistoryError) -> CLIError {
        CLIError(kind: .internal, message: "\(error.path): \(error.message)", fix: error.remedy)
    }

    static func noHistory(_ path: String) -> CLIError {
        CLIError.usage("no rehearsals recorded yet (no history at \(path))", fix: "run 'rehearse --target copy' first, or name a history with --history PATH")
    }
}
