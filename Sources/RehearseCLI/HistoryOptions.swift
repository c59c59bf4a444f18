import ArgumentParser
import Foundation
import RehearseEngine
import RehearseStore

/// `--history PATH`, shared by every command that reads or writes the history.
struct HistoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The history: a file, or a PostgreSQL database shared by several machines, postgresql://USER@HOST:PORT/DB (default: $REHEARSE_HISTORY, else .rehearse/history.sqlite beside the nearest Rehearsals/).",
        valueName: "path-or-url"))
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
    func openExisting() async throws(CLIError) -> (any HistoryStore)? {
        try await Self.openIfExists(path())
    }

    /// Opens the history at `path` if there is one (a file, or a database with rehearse's
    /// schema): a command that only reads never makes one.
    static func openIfExists(_ path: String, plan: String? = nil, console: Console = Console()) async throws(CLIError) -> (any HistoryStore)? {
        try await open(path, plan: plan, create: false, console: console)
    }

    /// Where a PostgreSQL history's runs keep their logs on this machine: the `.rehearse/` of the
    /// plan's project, or of the nearest `Rehearsals/` (else the current folder).
    static func localFolder(forPlan plan: String?) -> String {
        if let plan { return ProjectLayout.stateFolder(forPlan: plan).path }
        let discovery = PlanDiscovery()
        let root = discovery.rehearsalsFolder()?.deletingLastPathComponent() ?? URL(fileURLWithPath: discovery.currentDirectory)
        return root.appendingPathComponent(ProjectLayout.stateFolderName).path
    }

    /// Opens a history, marks runs whose harness died as abandoned, and stops the processes their
    /// steps left running (a harness killed with SIGKILL cannot do that itself).
    static func open(_ path: String, plan: String? = nil, console: Console = Console()) async throws(CLIError) -> any HistoryStore {
        guard let store = try await open(path, plan: plan, create: true, console: console) else { throw CLIError.noHistory(path) }
        return store
    }

    /// Opens it; nil when `create` is false and there is none.
    private static func open(_ path: String, plan: String?, create: Bool, console: Console) async throws(CLIError) -> (any HistoryStore)? {
        do throws(EngineError) {
            let (store, reaped) = try await HistoryAccess.open(path, localFolder: localFolder(forPlan: plan), create: create)
            for run in reaped where run.stoppedProcesses > 0 {
                console.err("run \(run.run) was abandoned by a harness that died; stopped \(run.stoppedProcesses) process(es) its steps left running")
            }
            return store
        } catch {
            if !create, case .history(let history) = error.code, history.code == .missing { return nil }
            throw CLIError(error)
        }
    }
}

extension CLIError {
    /// A history read or write that failed after opening.
    static func history(_ error: HistoryError) -> CLIError {
        CLIError(kind: .internal, message: "\(error.path): \(error.message)", fix: error.remedy)
    }

    static func noHistory(_ path: String) -> CLIError {
        CLIError.usage("no rehearsals recorded yet (no history at \(HistoryLocation(path)))", fix: "run 'rehearse --target copy' first, or name a history with --history PATH")
    }
}
