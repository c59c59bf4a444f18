public import RehearseCore
public import RehearseRunner

/// What a caller asks of a rehearsal: the target, the approval of a protected one, the cut, and
/// how to run.
public struct RehearsalRequest: Sendable {
    /// The target to run against (`copy` by default).
    public var target: String
    /// `--approve`: the protected target the operator explicitly allows. Must name it exactly.
    public var approve: String?
    /// `--fail-at STEP` or `--cut-before STEP`, in the plans that have the step.
    public var cut: Cut?
    /// How many independent steps may run at once.
    public var jobs: Int
    /// Between SIGTERM and SIGKILL when stopping a step's process group.
    public var killGrace: Duration
    /// Every line of every command's output as it arrives (`--verbose`).
    public var liveOutput: (@Sendable (Activity, String) -> Void)?
    /// Stop what steps left running (daemons) at the end of each run.
    public var stopStrayProcesses: Bool
    /// `--round-trip`: forward, roll back, forward again, roll back again.
    public var roundTrip = false
    /// `--twice`: every forward and rollback step run twice in a row.
    public var twice = false
    /// `--copy-restored`: the operator restored (or rebuilt) the copy a broken rollback left
    /// changed; it is taken as it is now, not compared with what that run started from.
    public var copyRestored = false
    /// `--log-limit`: most bytes each command's log keeps (nil: all).
    public var logLimit: Int? = RehearsalOptions.defaultLogLimit
    /// `--wait`: how long to wait for another run that holds the target's copy (``TargetLock``).
    public var wait: Duration = .zero

    public init(
        target: String = "copy", approve: String? = nil, cut: Cut? = nil, jobs: Int = RehearsalOptions.defaultJobs,
        killGrace: Duration = .seconds(5), liveOutput: (@Sendable (Activity, String) -> Void)? = nil,
        stopStrayProcesses: Bool = true
    ) {
        self.target = target
        self.approve = approve
        self.cut = cut
        self.jobs = jobs
        self.killGrace = killGrace
        self.liveOutput = liveOutput
        self.stopStrayProcesses = stopStrayProcesses
    }
}
