public import RehearseCore
import Foundation

/// How to run one rehearsal.
public struct RehearsalOptions: Sendable {
    /// Handed to every command as `REHEARSE_RUN_ID`.
    public var runID: String
    /// The target to run against; the caller has checked that the plan has it and that it is approved.
    public var target: String
    /// How many steps may run at once.
    public var jobs: Int
    /// `--fail-at STEP` or `--cut-before STEP`: where the go-live fails on purpose.
    public var cut: Cut?
    /// The copy this run has to itself (`--copies`): handed to every command as `REHEARSE_COPY`.
    public var copy: Int?
    /// `--round-trip`: after the rollback, forward again and roll back again; both rollbacks
    /// timed (the slower counts), the fingerprint checked after each.
    public var roundTrip = false
    /// `--twice`: each forward and each rollback step runs twice in a row (one step at a time);
    /// the second run must succeed and leave the same fingerprint.
    public var twice = false
    /// Between SIGTERM and SIGKILL when stopping a command.
    public var killGrace: Duration
    /// Where each command's log goes (created by the caller).
    public var logsFolder: String
    /// Every output line as it arrives (`--verbose`); nil keeps output in the logs only.
    public var liveOutput: (@Sendable (Activity, String) -> Void)?
    /// Stop processes that steps left running (daemons) at the end of the run; they are found by
    /// this run's ``processMark`` in their environment.
    public var stopStrayProcesses: Bool
    /// A value unique to this run on this machine, handed to every command as `REHEARSE_RUN_TOKEN`.
    /// Run ids repeat across histories; this does not.
    public var processMark: String
    /// The token of the copy's own processes: the target's setup and teardown carry it as
    /// `REHEARSE_RUN_TOKEN` (and run in a cgroup of their own), so that what the setup starts
    /// (the copy's servers) is never stopped as a step's leftover.
    public var copyMark: String { Self.copyMark(for: processMark) }

    /// The copy's token of the run with this token.
    public static func copyMark(for processMark: String) -> String { processMark + "-copy" }
    /// Asked once the rollback is over, before the verdict: what changed in the plan's content
    /// (its inputs) while the run went on, or nil. A change fails the run.
    public var contentChanged: (@Sendable () -> String?)?

    /// A live go-live (`rehearse go`) rather than a rehearsal: the target's setup and teardown,
    /// the fingerprint's probe, the window and its control copy do not run; the fingerprint is
    /// recorded and never compared; when the smoke checks (and the watch) pass, nothing is rolled
    /// back and the run ends `applied`.
    public var live = false
    /// What the copy must be before the forward steps: the fingerprint run `run` started from,
    /// when that run's rollback left the copy changed (its fingerprint differed) and nothing has
    /// made the copy afresh or shown it clean since. A copy that still differs from it fails the
    /// run before anything is applied (``RunReason/copyChangedBefore(run:)``).
    public var startingFrom: (run: Int64, fingerprint: FingerprintOutput)?
    /// A live run: re-run the smoke checks for a while after they first pass (`go --watch`).
    public var watch: Watch?

    /// `--watch DURATION --every INTERVAL`: the smoke checks again after each interval, for as
    /// many whole intervals as fit in the duration (at least one).
    public struct Watch: Sendable, Hashable {
        public var duration: Duration
        public var every: Duration

        public init(duration: Duration, every: Duration) {
            self.duration = duration
            self.every = every
        }

        public var rounds: Int {
            guard every > .zero else { return 1 }
            return max(1, Int((duration / every).rounded(.down)))
        }
    }

    /// Most bytes each command's log keeps (`--log-limit`): its first and last halves.
    public var logLimit: Int? = RehearsalOptions.defaultLogLimit

    public static let defaultJobs = 4
    /// The most steps at once an option may ask for: more would only queue on the machine.
    public static let mostJobs = 1024
    /// 16 MiB a command: a step that prints gigabytes cannot fill the disk that holds the history.
    public static let defaultLogLimit = 16 * 1024 * 1024

    public init(
        runID: String, target: String, jobs: Int = RehearsalOptions.defaultJobs, cut: Cut? = nil, copy: Int? = nil,
        killGrace: Duration = .seconds(5), logsFolder: String,
        liveOutput: (@Sendable (Activity, String) -> Void)? = nil, stopStrayProcesses: Bool = true,
        processMark: String? = nil, contentChanged: (@Sendable () -> String?)? = nil
    ) {
        self.contentChanged = contentChanged
        self.processMark = processMark ?? UUID().uuidString
        self.runID = runID
        self.target = target
        self.jobs = jobs
        self.cut = cut
        self.copy = copy
        self.killGrace = killGrace
        self.logsFolder = logsFolder
        self.liveOutput = liveOutput
        self.stopStrayProcesses = stopStrayProcesses
    }
}
