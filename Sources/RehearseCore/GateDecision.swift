public import Foundation

/// The go-live day's question: has this exact plan passed a rehearsal recently enough?
///
/// Only two things count as a pass: a full rehearsal (no cut), or an every-cut group whose cuts
/// all ran and passed. A single `--fail-at` or `--cut-before` run never does: it rehearsed the
/// rollback from one place only. Among the rehearsals of this exact content (the plan's text and
/// its inputs, by hash) on the rehearsal target, the newest that says something decides:
///
/// - a full rehearsal or an every-cut group that did not pass: no-go, whatever passed before it;
/// - a cut that failed: no-go too (the rollback does not work from there);
/// - a passing full rehearsal or every-cut group: go, if recent enough;
/// - a passing cut, or a group not run to its end: passed over, it proves nothing on its own.
///
/// And a cut of this content that failed (or went over budget) within the window stands, however
/// many full rehearsals passed after it: the rollback from there is known to be broken. Only a
/// later pass from the same cut, or a later every-cut group whose cuts all passed, clears it.
public struct GateDecision: Sendable, Hashable {
    /// What the gate asks for.
    public enum Requirement: String, Sendable, Hashable, CaseIterable {
        /// A full rehearsal or a passing every-cut group.
        case rehearsal
        /// A passing every-cut group (every cut point rehearsed).
        case everyCut = "every-cut"
    }

    /// The rehearsal a decision rests on.
    public struct Evidence: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case fullRehearsal
            /// An every-cut group: its id and how many rehearsals it has.
            case everyCut(group: String, rehearsals: Int)
            /// A full rehearsal repeated (`--repeat`), every time passing.
            case repeated(group: String, rehearsals: Int)
        }

        public var kind: Kind
        /// The run that stands for it: the full rehearsal, or the group's worst cut.
        public var run: Int64
        /// When it finished (the group's last run).
        public var finishedAt: Date
        public var target: String
        /// The worst rollback time in it, against the budget, and from which cut.
        public var worstRollback: Duration?
        public var budget: Duration
        public var worstCut: Cut?
    }

    public enum Reason: Sendable, Hashable {
        case neverRehearsed(target: String)
        /// No rehearsal of this content: the plan or its inputs changed since the last one (`run`
        /// is the last passing rehearsal of the plan, or else its latest run).
        case changedSince(run: Int64, changes: RunComparison.PlanChanges, inputs: InputChanges)
        /// The newest rehearsal of this content that counts did not pass. `cut` is set when it was
        /// a cut (alone, or in an every-cut group).
        case lastRehearsalDidNotPass(run: Int64, status: RunStatus, rollback: Duration?, budget: Duration, reasons: [RunReason], cut: Cut?)
        /// This content was rehearsed, but nothing that counts passed: only cuts, an every-cut group
        /// that did not run to its end, or (with `--require every-cut`) only full rehearsals.
        case nothingCounts(runs: [Int64], requirement: Requirement)
        /// A cut of this exact content failed, and no later rehearsal from that cut (nor a later
        /// passing every-cut group) passed: a full rehearsal does not clear it.
        case cutStillFailing(run: Int64, cut: Cut, status: RunStatus, rollback: Duration?, budget: Duration, reasons: [RunReason])
        case tooLongAgo(run: Int64, at: Date, age: Duration, window: Duration)
    }

    public var isGo: Bool
    /// The run that justifies the answer, when there is one.
    public var run: Int64?
    public var reason: Reason?
    /// What a GO rests on (and a too-old pass).
    public var evidence: Evidence?

    public init(isGo: Bool, run: Int64?, reason: Reason?, evidence: Evidence? = nil) {
        self.isGo = isGo
        self.run = run
        self.reason = reason
        self.evidence = evidence
    }

    /// - Parameters:
    ///   - hash: the content hash of the plan as it is now (its text and inputs).
    ///   - text: the plan's text as it is now.
    ///   - inputs: its inputs' digests now, by path.
    ///   - runs: runs of this plan (by name) on the rehearsal target, newest first.
    public static func decide(
        hash: String, text: String, inputs: [String: String] = [:], runs: [Run], target: String, now: Date,
        within window: Duration, requiring requirement: Requirement = .rehearsal
    ) -> GateDecision {
        // Only rehearsals are evidence: a live run (even one that went well) proves no rollback.
        let runs = runs.filter { $0.kind == .rehearsal }
        let finished = runs.filter { $0.status != .running }
        guard let newest = finished.first else {
            return GateDecision(isGo: false, run: nil, reason: .neverRehearsed(target: target))
        }
        let matching = finished.filter { $0.planHash == hash }
        guard !matching.isEmpty else {
            let reference = finished.first { $0.status == .passed && $0.isFull } ?? finished.first { $0.status == .passed } ?? newest
            return GateDecision(isGo: false, run: reference.id, reason: .changedSince(
                run: reference.id, changes: RunComparison.changes(from: reference.planText, to: text),
                inputs: InputChanges.between(reference.inputHashes, inputs)))
        }
        // Every run of this content still in the history, grouped: runs of a group stand together
        // (the group may have runs beyond the 'runs' window: only what is here is judged).
        let units = Unit.all(matching, allRuns: runs)
        for unit in units {
            switch unit.verdict {
            case .failed(let run):
                return GateDecision(isGo: false, run: run.id, reason: .lastRehearsalDidNotPass(
                    run: run.id, status: run.status, rollback: run.rollback, budget: run.budget, reasons: run.reasons, cut: run.cut))
            case .proves(let evidence):
                if requirement == .everyCut {
                    if case .fullRehearsal = evidence.kind { continue }
                    if case .repeated = evidence.kind { continue }
                }
                if let failing = Self.standingFailedCut(matching, units: units, now: now, within: window), let cut = failing.cut {
                    return GateDecision(isGo: false, run: failing.id, reason: .cutStillFailing(
                        run: failing.id, cut: cut, status: failing.status, rollback: failing.rollback, budget: failing.budget,
                        reasons: failing.reasons))
                }
                let age = Duration.seconds(now.timeIntervalSince(evidence.finishedAt))
                if age > window {
                    return GateDecision(isGo: false, run: evidence.run,
                                        reason: .tooLongAgo(run: evidence.run, at: evidence.finishedAt, age: age, window: window),
                                        evidence: evidence)
                }
                return GateDecision(isGo: true, run: evidence.run, reason: nil, evidence: evidence)
            case .provesNothing:
                continue
            }
        }
        return GateDecision(isGo: false, run: matching.first?.id,
                            reason: .nothingCounts(runs: matching.map(\.id), requirement: requirement))
    }

    /// The newest cut of this content that failed or went over budget within the window and that
    /// nothing later cleared: a pass from the same cut, or an every-cut group whose cuts all passed.
    private static func standingFailedCut(_ matching: [Run], units: [Unit], now: Date, within window: Duration) -> Run? {
        let passingGroups: [Int64] = units.compactMap { unit in
            guard unit.group?.kind == .everyCut, case .proves = unit.verdict else { return nil }
            return unit.runs.map(\.id).min()
        }
        return matching.first { run in
            guard let cut = run.cut, run.status == .failed || run.status == .overBudget else { return false }
            let finishedAt = run.endedAt ?? run.startedAt
            guard Duration.seconds(now.timeIntervalSince(finishedAt)) <= window else { return false }
            let clearedByTheSameCut = matching.contains { $0.id > run.id && $0.cut == cut && $0.status == .passed }
            let clearedByAGroup = passingGroups.contains { $0 > run.id }
            return !clearedByTheSameCut && !clearedByAGroup
        }
    }

    /// A full rehearsal, a cut alone, or an every-cut group: what the gate weighs as one.
    private struct Unit {
        enum Verdict {
            case failed(Run)
            case proves(Evidence)
            case provesNothing
        }

        var runs: [Run]
        var group: RunGroup?
        /// The newest run's id: units are weighed newest first.
        var newest: Int64 { runs.map(\.id).max() ?? 0 }

        static func all(_ matching: [Run], allRuns: [Run]) -> [Unit] {
            var units: [Unit] = []
            var groups: [String: Int] = [:]
            for run in matching {
                // A shard's group is only a slice of the cuts: its runs stand alone.
                if let group = run.group, group.shard == nil {
                    if let index = groups[group.id] {
                        units[index].runs.append(run)
                    } else {
                        groups[group.id] = units.count
                        units.append(Unit(runs: [run], group: group))
                    }
                } else {
                    units.append(Unit(runs: [run], group: nil))
                }
            }
            // A group with a run still going is not finished: it proves nothing yet.
            for index in units.indices {
                if let group = units[index].group, allRuns.contains(where: { $0.group?.id == group.id && $0.status == .running }) {
                    units[index].runs.append(contentsOf: allRuns.filter { $0.group?.id == group.id && $0.status == .running })
                }
            }
            return units.sorted { $0.newest > $1.newest }
        }

        var verdict: Verdict {
            if let failed = runs.filter({ $0.status != .passed && $0.status != .running }).max(by: { Self.worse($1, than: $0) }) {
                return .failed(failed)
            }
            if let group {
                guard runs.count == group.size, runs.allSatisfy({ $0.status == .passed }) else { return .provesNothing }
                // A repeated rehearsal of cuts proves no more than one cut does.
                if group.kind == .repeat, !runs.allSatisfy(\.isFull) { return .provesNothing }
                let worst = runs.max { ($0.budgetShare ?? 0) < ($1.budgetShare ?? 0) } ?? runs[0]
                let last = runs.max { ($0.endedAt ?? $0.startedAt) < ($1.endedAt ?? $1.startedAt) } ?? runs[0]
                return .proves(Evidence(
                    kind: group.kind == .repeat ? .repeated(group: group.id, rehearsals: runs.count) : .everyCut(group: group.id, rehearsals: runs.count),
                    run: worst.id,
                    finishedAt: last.endedAt ?? last.startedAt, target: worst.target, worstRollback: worst.rollback,
                    budget: worst.budget, worstCut: worst.cut))
            }
            let run = runs[0]
            guard run.isFull else { return .provesNothing }
            return .proves(Evidence(kind: .fullRehearsal, run: run.id, finishedAt: run.endedAt ?? run.startedAt,
                                    target: run.target, worstRollback: run.rollback, budget: run.budget, worstCut: nil))
        }

        /// The failing run to name: the worst outcome, then the newest.
        static func worse(_ a: Run, than b: Run) -> Bool {
            (a.status.severity, a.id) > (b.status.severity, b.id)
        }
    }
}

extension InputChanges {
    /// How a plan's inputs changed from `old` to `new` (digests by path).
    public static func between(_ old: [String: String], _ new: [String: String]) -> InputChanges {
        InputChanges(
            changed: new.keys.filter { old[$0] != nil && old[$0] != new[$0] }.sorted(),
            added: new.keys.filter { old[$0] == nil }.sorted(),
            removed: old.keys.filter { new[$0] == nil }.sorted())
    }
}
