import RehearseCore
import RehearseStore

/// `--group ID`: the runs of one every-cut group, found by its id or a prefix of it (as `history`
/// and the matrix print it), and the cuts the group had to rehearse.
enum GroupLookup {
    struct Found {
        var group: RunGroup
        var runs: [Run]
        /// The cuts the group had to rehearse, from its plan as it was recorded.
        var cuts: [Cut?]
        var planName: String
    }

    static func find(_ prefix: String, in store: any HistoryStore) async throws(CLIError) -> Found {
        guard prefix.count >= 4 else {
            throw CLIError.usage("'\(prefix)' is too short to name a group", fix: "give at least 4 characters of its id ('rehearse history' shows them)")
        }
        let runs: [Run]
        do throws(HistoryError) { runs = try await store.groupRuns(prefix: prefix) } catch { throw CLIError.history(error) }
        let ids = Set(runs.compactMap(\.group?.id))
        guard let id = ids.first, let first = runs.first, let group = first.group else {
            throw CLIError.usage("there is no every-cut group '\(prefix)' in \(store.location)",
                                 fix: "'rehearse history' shows each run's group (give at least 4 characters of its id)")
        }
        guard ids.count == 1 else {
            throw CLIError.usage("'\(prefix)' names \(ids.count) groups (\(ids.sorted().map { String($0.prefix(8)) }.joined(separator: ", ")))",
                                 fix: "give more of the group's id")
        }
        let members = runs.filter { $0.group?.id == id }
        // The plan as the group recorded it says which cuts it had to run, those that did not included.
        let cuts = CutPoints.planned(for: group, planText: first.planText, file: first.planFile, name: first.planName)
            ?? (group.kind == .repeat ? Array(repeating: members.first?.cut, count: group.size) : members.map(\.cut))
        return Found(group: group, runs: members, cuts: cuts, planName: first.planName)
    }
}
