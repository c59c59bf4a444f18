public import Foundation
public import RehearseCore

/// The rehearsal history: where every run is journaled as it happens, and read back by
/// `history`, `show`, `compare`, `gate`, `report` and `recover`.
///
/// Two implementations behave alike (one test suite runs against both): ``SQLiteHistory``, a
/// file on this machine, and ``PostgresHistory``, one database a whole team's laptops and CI
/// runners share. ``HistoryLocation/open(_:localFolder:)`` opens either from what `--history`
/// names.
///
/// Every write returns once the history has it (a harness killed at any moment leaves exactly
/// what had started in the journal), and is never cancelled with the calling task.
public protocol HistoryStore: AnyObject, Sendable {
    /// Where the history is, as people may read it: a file's path, or a PostgreSQL URL without
    /// its password.
    var location: String { get }

    /// The folder on this machine where runs keep their logs (`logs/` in it).
    var localFolder: String { get }

    /// Takes the exclusive lock of `target`'s copy `copy` for a whole run, waiting up to `wait`
    /// for its holder to end; released by ``TargetLease/release()`` or however the process ends.
    func lockTarget(_ target: String, copy: Int, holder: TargetHolder, wait: Duration) async throws(TargetLock.Failure) -> any TargetLease

    /// Fails when what this process holds in the history may be lost: a PostgreSQL session that
    /// ended let go of its runs' and targets' locks (another harness could take this copy).
    /// A run calls it every second; a file has nothing to lose.
    func confirmSession() async throws(HistoryError)

    /// How long a run may go without confirming its session before it must stop touching its
    /// copy, rollback included (another harness may then take it); nil: never (a file's flock
    /// lasts as long as the process).
    var lease: Duration? { get }

    // MARK: The journal

    /// Records `run` (status `running`) and returns it numbered, with its plan's content hash and
    /// its globally unique id.
    func beginRun(_ run: Run, logsFolder: String?) async throws(HistoryError) -> Run
    /// Records that an activity started; returns its row id for ``activityFinished(run:row:_:)``.
    func activityStarted(run: Int64, _ activity: Activity, offset: Duration) async throws(HistoryError) -> Int64
    /// Records how an activity ended: updates its row, or adds one when it never started.
    func activityFinished(run: Int64, row: Int64?, _ record: ActivityRecord) async throws(HistoryError)
    /// In one transaction: how the given activities ended, then that `starting` started (its row id is returned).
    func journal(run: Int64, finished: [(row: Int64?, record: ActivityRecord)], starting: Activity?, offset: Duration) async throws(HistoryError) -> Int64?
    /// Records the fingerprint of a window's control copy.
    func fingerprintTaken(run: Int64, control: FingerprintOutput) async throws(HistoryError)
    /// Records the fingerprint taken before the forward steps (what `recover` compares with).
    func fingerprintTaken(run: Int64, before: FingerprintOutput) async throws(HistoryError)
    /// Records the moment and the reason of the rollback trigger.
    func rollbackTriggered(run: Int64, _ trigger: RollbackTrigger) async throws(HistoryError)
    /// Records the verdict and the figures of a finished run.
    func finishRun(_ run: Run) async throws(HistoryError)
    /// Where the run's logs are, kept as soon as the folder exists.
    func recordLogsFolder(run: Int64, _ path: String) async throws(HistoryError)
    /// A finished run goes on in this process (`go --finish`, `rollback`): `running` again, held by
    /// this process. False when it is no longer `expected` (another process took it first).
    func reopenRun(_ run: Int64, expected: RunStatus, by provenance: RunProvenance) async throws(HistoryError) -> Bool
    /// Gives a reopened run its status back, and the host and pid of the harness that first ran it.
    func releaseRun(_ run: Int64, status: RunStatus, host: String, pid: Int32) async throws(HistoryError)
    /// After `recover`: what is still applied.
    func recordRecovery(run: Int64, stillApplied: [String]) async throws(HistoryError)
    /// Marks `running` runs whose harness no longer exists as `abandoned` (their in-flight
    /// activities as `in-flight`), and returns them.
    @discardableResult
    func markAbandoned() async throws(HistoryError) -> [AbandonedRun]

    // MARK: Reading

    /// The most recent runs, newest first, optionally of one plan; without their activities.
    func recentRuns(plan: String?, limit: Int) async throws(HistoryError) -> [Run]
    /// One run with every activity, or nil when there is no such run.
    func run(id: Int64) async throws(HistoryError) -> Run?
    /// The runs of every-cut groups whose id starts with `prefix` (at least 4 characters), oldest first, with their activities.
    func groupRuns(prefix: String) async throws(HistoryError) -> [Run]
    /// Every plan and target the history has runs of, by plan name, then target.
    func plansAndTargets(plan: String?) async throws(HistoryError) -> [(plan: String, target: String)]
    /// The id of the newest run (of a plan, when given).
    func latestRunID(plan: String?) async throws(HistoryError) -> Int64?
    /// Finished runs of a plan on a target, newest first, with their activities; optionally only
    /// those before run `before`, of one cut, that passed.
    func finishedRuns(plan: String, target: String, before: Int64?, cut: CutFilter, passedOnly: Bool, limit: Int) async throws(HistoryError) -> [Run]
    /// Runs of a plan on a target (any status), newest first, without activities: what `gate` weighs.
    func runs(plan: String, target: String, limit: Int) async throws(HistoryError) -> [Run]
    /// The newest run that may still have steps applied, for `recover` without a run id.
    func latestRecoverableRunID() async throws(HistoryError) -> Int64?
    /// The newest run on `target`'s copy `copy` (recorded by `host`, or by any host when nil)
    /// that may have left steps applied there: its `leftApplied` is not empty, it is still
    /// `running`, or it is a go-live still `applied` (not finished, not rolled back); and newer
    /// than the newest run that passed there (which found the copy as it left it). With its
    /// activities. What a run looks for on the copy before it starts.
    func latestLeftoverRun(onTarget target: String, copy: Int, host: String?) async throws(HistoryError) -> Run?
    /// The newest run of `plan` on the copy (of `host`) whose fingerprint differed after its
    /// rollback and that no later run of the plan there cleared: one that passed (or only went
    /// over budget) with a fingerprint. With its activities.
    func latestUnclearedFingerprintDifference(plan: String, target: String, copy: Int, host: String?) async throws(HistoryError) -> Run?
    /// The newest run on the copy after run `after` whose target setup or teardown completed: the
    /// copy was made afresh, or taken down, since run `after` left it. With its activities.
    func latestRemakingRun(onTarget target: String, copy: Int, host: String?, after: Int64) async throws(HistoryError) -> Run?
    /// How many runs, activities and bytes the history holds.
    func size() async throws(HistoryError) -> (runs: Int, activities: Int, bytes: Int)

    // MARK: Merging

    /// Merges the finished runs of another history file into this one, by each run's globally
    /// unique id (importing twice adds nothing). The file is never written.
    func importRuns(from source: String, since: Date?) async throws(HistoryError) -> ImportSummary
    /// Writes the finished runs since `since` (all when nil) to a new history file at `path`.
    func exportRuns(to path: String, since: Date?) async throws(HistoryError) -> ImportSummary
}

/// The defaults the requirements cannot have.
extension HistoryStore {
    public func beginRun(_ run: Run) async throws(HistoryError) -> Run {
        try await beginRun(run, logsFolder: nil)
    }

    public func recentRuns(plan: String? = nil, limit: Int = 20) async throws(HistoryError) -> [Run] {
        try await recentRuns(plan: plan, limit: limit)
    }

    public func plansAndTargets() async throws(HistoryError) -> [(plan: String, target: String)] {
        try await plansAndTargets(plan: nil)
    }

    public func latestRunID() async throws(HistoryError) -> Int64? {
        try await latestRunID(plan: nil)
    }

    public func finishedRuns(
        plan: String, target: String, before: Int64? = nil, cut: CutFilter = .any, passedOnly: Bool = false, limit: Int
    ) async throws(HistoryError) -> [Run] {
        try await finishedRuns(plan: plan, target: target, before: before, cut: cut, passedOnly: passedOnly, limit: limit)
    }

    public func runs(plan: String, target: String) async throws(HistoryError) -> [Run] {
        try await runs(plan: plan, target: target, limit: 50)
    }

    public func importRuns(from source: String) async throws(HistoryError) -> ImportSummary {
        try await importRuns(from: source, since: nil)
    }
}

/// Which runs to take by what they rehearsed.
public enum CutFilter: Sendable {
    case any
    /// Only runs with this cut (`nil`: full rehearsals, in a group or not).
    case only(Cut?)
}

/// A run whose harness died, and the token its commands carried.
public struct AbandonedRun: Sendable {
    public var id: Int64
    public var processMark: String?
    public var kind: RunKind
    /// Whether the run's target is protected in the plan recorded with it.
    public var protectedTarget: Bool
}

/// A target's copy held for one run (``HistoryStore/lockTarget(_:copy:holder:wait:)``).
public protocol TargetLease: AnyObject, Sendable {
    var target: String { get }
    var copy: Int { get }
    /// Says who holds it now (the run's number, once it has one).
    func record(_ holder: TargetHolder)
    /// Lets the next one in (also done when the process ends, however it ends).
    func release()
}
