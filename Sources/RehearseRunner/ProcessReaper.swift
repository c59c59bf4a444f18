import CProcessSpawn
import Foundation
import RehearseCore
import Synchronization

/// The one thread that watches every running command: it waits (epoll) on each command's pidfd
/// and output pipes and on the nearest deadline, pumps output to the command's log as it comes,
/// stops a command's process group when it times out or is cancelled (SIGTERM, the kill grace,
/// SIGKILL), reaps it, and resumes the waiting task once. A command costs one wake-up of this
/// thread per event and one hop back to the caller's executor, where swift-subprocess spends a
/// monitor thread, an I/O thread and a timer per command (see ``SpawnExecutor``).
final class ProcessReaper: Sendable {
    /// How a watched command ended.
    struct Ending: Sendable {
        var code: Int32
        var signaled: Bool
        var timedOut: Bool
        var stopped: Bool
        /// Why the process could not be followed to its end (then `code` means nothing).
        var lost: String?
    }

    private struct Watched {
        var pid: pid_t
        var pidfd: Int32
        var pipes: [Int32: CommandOutput.Stream]
        var output: CommandOutput
        var deadline: ContinuousClock.Instant
        var killGrace: Duration
        var killAt: ContinuousClock.Instant?
        /// Called (off the thread's lock) instead of SIGTERM when the command must be stopped: a
        /// stop hook runs first, and ``terminate(_:)`` goes on with the signals.
        var beforeStop: (@Sendable (ShellCommand.StopCause) -> Void)?
        var timedOut = false
        var stopped = false
        var continuation: CheckedContinuation<Ending, Never>
        /// Set once the command's own process has ended while it was being stopped and others of
        /// its group live on: they get the rest of the kill grace before SIGKILL.
        var ended: Ending?
    }

    private struct State {
        var watched: [UInt64: Watched] = [:]
        /// Stops asked for before the command was watched (cancellation raced the spawn).
        var earlyStops: Set<UInt64> = []
        var stopRequests: [UInt64] = []
        /// Process groups to send SIGTERM now: their stop hooks have run.
        var terminations: [pid_t] = []
        var nextID: UInt64 = 1
        /// The nearest timeout or kill deadline, as last computed; nil: none.
        var nearest: ContinuousClock.Instant?
        /// Some command has no pidfd, or outlived its leader: looked at on every wake-up.
        var polling = false
    }

    static let shared = ProcessReaper()

    private let epoll: Int32
    /// Written to wake the thread when a stop is requested.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let state = Mutex(State())
    private static let chunk = 64 * 1024

    private init() {
        epoll = rehearse_epoll_create()
        var fds: [Int32] = [-1, -1]
        _ = rehearse_pipe(&fds, 1)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        Self.register(epoll, fd: wakeRead, key: 0)
        let thread = Thread { [self] in loop() }
        thread.name = "rehearse.reaper"
        thread.start()
    }

    func newID() -> UInt64 {
        state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Watches a spawned command until it ends; `pipes` are the read ends of its output pipes
    /// (non-blocking), closed here once drained.
    func watch(
        id: UInt64, pid: pid_t, pidfd: Int32, pipes: [Int32: CommandOutput.Stream], output: CommandOutput,
        timeout: Duration, killGrace: Duration, beforeStop: (@Sendable (ShellCommand.StopCause) -> Void)? = nil
    ) async -> Ending {
        await withCheckedContinuation { continuation in
            // Registered before the thread can see it, so that a failed registration can still
            // change how it is watched: a pidfd that epoll refuses is polled instead; a pipe that
            // epoll refuses is closed (its output is lost; the command is not blocked on it).
            var pidfd = pidfd
            if pidfd >= 0, !Self.register(epoll, fd: pidfd, key: id << 8) {
                Glibc.close(pidfd)
                pidfd = -1
            }
            var watchedPipes: [Int32: CommandOutput.Stream] = [:]
            for (fd, stream) in pipes {
                if Self.register(epoll, fd: fd, key: id << 8 | (stream == .standardOutput ? 1 : 2)) {
                    watchedPipes[fd] = stream
                } else {
                    Glibc.close(fd)
                }
            }
            let watched = Watched(pid: pid, pidfd: pidfd, pipes: watchedPipes, output: output, deadline: .now + timeout,
                                  killGrace: killGrace, beforeStop: beforeStop, continuation: continuation)
            let (stopEarly, sooner) = state.withLock { state -> (Bool, Bool) in
                state.watched[id] = watched
                // The thread looks at deadlines at least every `idleWait`: it needs waking only
                // for a deadline nearer than that and nearer than the one it waits for.
                let sooner = watched.deadline < (state.nearest ?? .now + Self.idleWait) && timeout < Self.idleWait
                return (state.earlyStops.remove(id) != nil, sooner || pidfd < 0)
            }
            if stopEarly { stop(id) } else if sooner { wake() }
        }
    }

    /// Asks for a command's process group to be stopped (SIGTERM, the grace, SIGKILL).
    func stop(_ id: UInt64) {
        state.withLock { state in
            if state.watched[id] == nil {
                state.earlyStops.insert(id)
            } else {
                state.stopRequests.append(id)
            }
        }
        wake()
    }

    /// After a stop hook: the command's process group is stopped now (SIGTERM, the grace,
    /// SIGKILL), unless it has ended meanwhile.
    func terminate(_ id: UInt64) {
        state.withLock { state in
            guard var watched = state.watched[id], watched.killAt == nil, watched.ended == nil else { return }
            watched.beforeStop = nil
            watched.killAt = .now + watched.killGrace
            state.watched[id] = watched
            state.terminations.append(watched.pid)
        }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    @discardableResult
    private static func register(_ epoll: Int32, fd: Int32, key: UInt64) -> Bool {
        rehearse_epoll_add(epoll, fd, key) == 0
    }

    // MARK: - The thread

    private func loop() {
        var keys = [UInt64](repeating: 0, count: 64)
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        var exited: [UInt64] = []
        while true {
            let count = rehearse_epoll_wait(epoll, &keys, Int32(keys.count), waitMilliseconds())
            exited.removeAll(keepingCapacity: true)
            for index in 0..<Int(count) {
                let key = keys[index]
                if key == 0 {
                    drainWakePipe()
                    continue
                }
                let id = key >> 8
                switch key & 0xFF {
                case 0: exited.append(id)
                case let stream: pump(id, stream: stream == 1 ? .standardOutput : .standardError, buffer: &buffer)
                }
            }
            // Deadlines and stops only when one is due or asked for: most wake-ups are an ending.
            let (due, polling) = state.withLock { state in
                (!state.stopRequests.isEmpty || !state.terminations.isEmpty || state.nearest.map { ContinuousClock.now >= $0 } == true, state.polling)
            }
            if due || polling { handleStopsAndDeadlines() }
            if polling {
                // Commands without a pidfd (old kernels) are polled at each wake-up.
                exited += state.withLock { $0.watched.filter { $0.value.pidfd < 0 && $0.value.ended == nil }.map(\.key) }
            }
            for id in exited { reap(id, buffer: &buffer) }
        }
    }

    /// The longest the thread waits without looking at deadlines: a command registered meanwhile
    /// wakes it only when its own deadline is nearer than this.
    private static let idleWait: Duration = .seconds(1)

    /// Until the nearest deadline (at most ``idleWait``), or 10 ms while some command has no pidfd.
    private func waitMilliseconds() -> Int32 {
        state.withLock { state -> Int32 in
            var nearest: ContinuousClock.Instant?
            var polling = false
            for watched in state.watched.values {
                if watched.pidfd < 0 { polling = true }
                let deadline = watched.killAt ?? (watched.timedOut || watched.stopped ? nil : watched.deadline)
                if let deadline, nearest.map({ deadline < $0 }) ?? true { nearest = deadline }
            }
            state.nearest = nearest
            state.polling = polling
            // No pidfd to wait on, or a group that outlived its leader: look again every 10 ms.
            if polling { return 10 }
            let wait = min(nearest.map { $0 - ContinuousClock.now } ?? Self.idleWait, Self.idleWait)
            if wait <= .zero { return 0 }
            let (seconds, attoseconds) = wait.components
            return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
        }
    }

    private func drainWakePipe() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeRead, &bytes, bytes.count) > 0 {}
    }

    /// Timeouts and stop requests: SIGTERM to the group, then SIGKILL after the grace; and the end
    /// of the grace for groups that outlived their leader.
    private func handleStopsAndDeadlines() {
        let now = ContinuousClock.now
        var finished: [(CheckedContinuation<Ending, Never>, Ending)] = []
        var hooks: [(@Sendable (ShellCommand.StopCause) -> Void, ShellCommand.StopCause)] = []
        let signals: [(pid_t, Int32)] = state.withLock { state in
            var signals: [(pid_t, Int32)] = state.terminations.map { ($0, SIGTERM) }
            state.terminations.removeAll()
            let requests = state.stopRequests
            state.stopRequests.removeAll()
            for id in requests {
                guard var watched = state.watched[id], !watched.stopped, !watched.timedOut else { continue }
                watched.stopped = true
                if let hook = watched.beforeStop {
                    // Its stop hook first; ``terminate(_:)`` sends the signals after it.
                    hooks.append((hook, .cancelled))
                } else {
                    watched.killAt = now + watched.killGrace
                    signals.append((watched.pid, SIGTERM))
                }
                state.watched[id] = watched
            }
            for (id, var watched) in state.watched {
                if let ended = watched.ended {
                    // The leader is gone; the rest of its group gets the grace, then SIGKILL.
                    let groupGone = !ProcessJanitor.groupHasLiveMembers(watched.pid)
                    if groupGone || now >= (watched.killAt ?? now) {
                        if !groupGone { signals.append((watched.pid, SIGKILL)) }
                        state.watched[id] = nil
                        finished.append((watched.continuation, ended))
                    }
                    continue
                }
                if !watched.timedOut, !watched.stopped, now >= watched.deadline {
                    watched.timedOut = true
                    if let hook = watched.beforeStop {
                        hooks.append((hook, .timeout))
                    } else {
                        watched.killAt = now + watched.killGrace
                        signals.append((watched.pid, SIGTERM))
                    }
                } else if let killAt = watched.killAt, now >= killAt {
                    watched.killAt = nil
                    signals.append((watched.pid, SIGKILL))
                } else {
                    continue
                }
                state.watched[id] = watched
            }
            return signals
        }
        for (pid, signal) in signals { kill(-pid, signal) }
        for (continuation, ending) in finished { continuation.resume(returning: ending) }
        // (Each starts a task and returns: the thread never waits for a hook.)
        for (hook, cause) in hooks { hook(cause) }
    }

    /// At most this many chunks from one pipe per wake-up, so that a flood cannot hold up the
    /// timeouts and kills of other commands (epoll brings the thread back for the rest).
    private static let chunksPerWake = 16

    /// Reads what a pipe holds now (up to ``chunksPerWake`` chunks); closes it at its end.
    private func pump(_ id: UInt64, stream: CommandOutput.Stream, buffer: inout [UInt8]) {
        guard let (fd, output) = state.withLock({ state -> (Int32, CommandOutput)? in
            guard let watched = state.watched[id], let fd = watched.pipes.first(where: { $0.value == stream })?.key else { return nil }
            return (fd, watched.output)
        }) else { return }
        var chunks = 0
        while chunks < Self.chunksPerWake {
            let read = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, Self.chunk) }
            if read > 0 {
                output.write(Array(buffer[0..<read]), from: stream)
                chunks += 1
                continue
            }
            if read < 0, errno == EINTR { continue }
            if read == 0 {
                // Every writer closed it: nothing more will come.
                close(id, fd)
            }
            return  // EAGAIN: nothing more for now
        }
    }

    private func close(_ id: UInt64, _ fd: Int32) {
        rehearse_epoll_remove(epoll, fd)
        Glibc.close(fd)
        state.withLock { _ = $0.watched[id]?.pipes.removeValue(forKey: fd) }
    }

    /// The command's process ended: read what its pipes hold, close them (a grandchild that keeps
    /// them open does not hold the command up; what it writes later is not kept), and resume.
    private func reap(_ id: UInt64, buffer: inout [UInt8]) {
        guard let (pid, pidfd) = state.withLock({ state in state.watched[id].map { ($0.pid, $0.pidfd) } }) else { return }
        var code: Int32 = 0
        var signaled: Int32 = 0
        let reaped = rehearse_reap(pidfd, pid, &code, &signaled)
        if reaped == 0 { return }  // still running
        let lost = reaped < 0 ? "cannot wait for process \(pid): \(String(cString: strerror(errno)))" : nil
        for stream in [CommandOutput.Stream.standardOutput, .standardError] {
            pump(id, stream: stream, buffer: &buffer)
        }
        let ending = state.withLock { state -> (Ending, CheckedContinuation<Ending, Never>)? in
            guard var watched = state.watched[id] else { return nil }
            for fd in watched.pipes.keys {
                rehearse_epoll_remove(epoll, fd)
                Glibc.close(fd)
            }
            watched.pipes.removeAll()
            if pidfd >= 0 {
                rehearse_epoll_remove(epoll, pidfd)
                Glibc.close(pidfd)
            }
            watched.pidfd = -1
            let ending = Ending(code: code, signaled: signaled != 0, timedOut: watched.timedOut, stopped: watched.stopped, lost: lost)
            // Stopped, and others of its group still live: they get the rest of the kill grace.
            if watched.stopped || watched.timedOut, let killAt = watched.killAt, killAt > .now, ProcessJanitor.groupHasLiveMembers(pid) {
                watched.ended = ending
                state.watched[id] = watched
                return nil
            }
            state.watched[id] = nil
            return (ending, watched.continuation)
        }
        if let (ending, continuation) = ending { continuation.resume(returning: ending) }
    }
}
