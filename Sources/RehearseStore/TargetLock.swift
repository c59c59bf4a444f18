public import Foundation
import Synchronization

/// Who holds a target's copy: what the one that waits is told.
public struct TargetHolder: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The run's number in its history (nil while it is being recorded).
    public var run: Int64?
    public var plan: String
    public var host: String
    public var pid: Int32
    public var since: Date

    public init(run: Int64? = nil, plan: String, host: String, pid: Int32, since: Date) {
        self.run = run
        self.plan = plan
        self.host = host
        self.pid = pid
        self.since = since
    }

    /// `run 12 of checkout-v2 (host ci-4, pid 4242, since 2026-12-06 22:59:01 UTC)`.
    public var description: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let what = run.map { "run \($0) of \(plan)" } ?? "a run of \(plan) being recorded"
        return "\(what) (host \(host), pid \(pid), since \(formatter.string(from: since)) UTC)"
    }
}

/// One rehearsal per target and copy at a time: an exclusive lock held for the whole run, so that
/// two rehearsals never change the same copy at once (and a `recover` never rolls back under a
/// rehearsal). For a history in a local file it is an OS file lock (`flock`) on
/// `locks/TARGET.copy-N.lock` beside the database: the kernel releases it however the holder
/// ends, SIGKILL included, and commands never inherit it (close-on-exec). The file also names
/// the holder, for the one that waits.
public final class TargetLock: TargetLease {
    public let target: String
    public let copy: Int
    public let path: String
    private let descriptor: Mutex<Int32>

    private init(target: String, copy: Int, path: String, descriptor: Int32) {
        self.target = target
        self.copy = copy
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    deinit { release() }

    /// Why a lock could not be taken.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Another run holds it, and waiting (up to `waited`) did not free it.
        case busy(target: String, copy: Int, holder: TargetHolder?, waited: Duration)
        /// The lock file cannot be made or locked: the harness cannot be sure it is alone.
        case unusable(path: String, why: String)

        public var description: String {
            switch self {
            case .busy(let target, let copy, let holder, let waited):
                "target '\(target)' (copy \(copy)) is busy: \(holder.map(\.description) ?? "another rehearse process") holds it"
                    + (waited >= .seconds(1) ? "; waited \(waited.components.seconds)s" : "")
            case .unusable(let path, let why):
                "cannot lock \(path): \(why)"
            }
        }
    }

    /// The lock folder beside the history's database.
    public static func folder(besideHistory historyPath: String) -> String {
        URL(fileURLWithPath: historyPath).deletingLastPathComponent().appendingPathComponent("locks").path
    }

    /// Takes the lock of `target`'s copy `copy`, waiting up to `wait` for its holder to end
    /// (looking again every 50 ms), and writes `holder` into it.
    public static func acquire(
        target: String, copy: Int, besideHistory historyPath: String, holder: TargetHolder, wait: Duration = .zero
    ) async throws(Failure) -> TargetLock {
        let folder = folder(besideHistory: historyPath)
        if mkdir(folder, 0o700) != 0, errno != EEXIST {
            throw .unusable(path: folder, why: String(cString: strerror(errno)))
        }
        var info = stat()
        guard lstat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .unusable(path: folder, why: "it is not a folder")
        }
        // Target names are identifiers (letters, digits, '-', '_', '.'): a file name as they are.
        let path = folder + "/" + target + ".copy-" + String(copy) + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw .unusable(path: path, why: String(cString: strerror(errno))) }
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw .unusable(path: path, why: "it is not a regular file")
        }
        let started = ContinuousClock.now
        // Never less than a moment: between its fork and its exec a command another run of this
        // process is starting shares the descriptor, and with it a lock its holder just let go.
        let wait = max(wait, Self.shortestWait)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(descriptor)
                throw .unusable(path: path, why: String(cString: strerror(failure)))
            }
            let waited = ContinuousClock.now - started
            if waited >= wait {
                let current = read(descriptor)
                close(descriptor)
                throw .busy(target: target, copy: copy, holder: current, waited: waited)
            }
            do {
                try await Task.sleep(for: min(.milliseconds(50), wait - waited))
            } catch {
                let current = read(descriptor)
                close(descriptor)
                throw .busy(target: target, copy: copy, holder: current, waited: waited)
            }
        }
        let lock = TargetLock(target: target, copy: copy, path: path, descriptor: descriptor)
        lock.record(holder)
        return lock
    }

    /// How long an attempt tries at least, `--wait 0` included.
    static let shortestWait: Duration = .milliseconds(250)

    /// Says who holds it now (the run's number, once it has one).
    public func record(_ holder: TargetHolder) {
        guard let data = try? JSONEncoder().encode(holder) else { return }
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            _ = ftruncate(descriptor, 0)
            _ = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        }
    }

    /// Lets the next one in (also when the lock is released by the process's end).
    public func release() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            close(descriptor)
            descriptor = -1
        }
    }

    /// The holder the file names, if it can be read.
    private static func read(_ descriptor: Int32) -> TargetHolder? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return try? JSONDecoder().decode(TargetHolder.self, from: Data(bytes[0..<count]))
    }
}
