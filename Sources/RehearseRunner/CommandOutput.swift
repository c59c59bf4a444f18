import Foundation
import RehearseCore
import SystemPackage

/// Where one command's output goes: a log file created on the first byte (a command that prints
/// nothing costs no file, which on ext4 is a third of a millisecond each), the last bytes kept in
/// memory for the outcome's tail, and, with a live view, each line to it through ``LiveOutput``.
///
/// The log is owner-only and created anew, never through a symbolic link (`O_EXCL|O_NOFOLLOW`:
/// a path someone planted is not written through). With a limit, the log keeps the first half of
/// the limit and the last half, with a line between them saying how much was left out, so that a
/// chatty step cannot fill the disk that also holds the history.
///
/// ``write(_:from:)`` runs on the reaper thread, so it only appends: splitting into lines and
/// making them printable happen on the live-output queue, where a slow terminal holds up nothing
/// but the live view itself.
final class CommandOutput: Sendable {
    private struct State {
        var file: FileDescriptor?
        var failedToOpen = false
        /// The log as created (the planned path, or one beside it when that was taken).
        var openedPath: String?
        /// Bytes in the log's head so far; past the head, the last bytes wait in `end`.
        var written = 0
        var end: [UInt8] = []
        var left = 0
        var tail: [UInt8] = []
        /// Bytes handed to the live view and not yet shown, and bytes it skipped meanwhile.
        var liveBacklog = 0
        var liveSkipped = 0
        /// Streams whose live view skipped output since its last shown chunk.
        var skippedSince: Set<Stream> = []
    }

    /// The live view may fall this far behind; past it, output goes to the log only until the
    /// view catches up (a line at the command's end says how much it skipped). The harness's
    /// memory stays bounded whatever a command prints and however slowly the terminal reads.
    static let liveBacklogLimit = 256 * 1024

    enum Stream: Sendable { case standardOutput, standardError }

    let path: String
    /// Most bytes the log keeps (head and end); nil: all of it.
    let limit: Int?
    private let live: (@Sendable (String) -> Void)?
    private let state = Locked(State())
    /// The unterminated end of each stream's output so far; touched only on the live-output queue.
    private let pending = Locked([Stream: [UInt8]]())

    init(path: String, live: (@Sendable (String) -> Void)?, limit: Int? = nil) {
        self.path = path
        self.live = live
        self.limit = limit.map { max($0, 2) }
    }

    /// Creates the log: owner-only, exclusively, not through a symbolic link. A path already taken
    /// (a log of an earlier recovery of the run) gets a number, never an overwrite.
    static func create(_ path: String) -> (FileDescriptor, String)? {
        for attempt in 0..<100 {
            let candidate = attempt == 0 ? path : path + ".\(attempt)"
            do {
                let file = try FileDescriptor.open(
                    FilePath(candidate), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .append, .closeOnExec],
                    permissions: [.ownerReadWrite])
                return (file, candidate)
            } catch Errno.fileExists {
                continue
            } catch {
                return nil
            }
        }
        return nil
    }

    /// Writes a whole file of the run's logs (a fingerprint kept, its diff) as logs are created:
    /// owner-only, anew, never through a symbolic link.
    static func writeNew(_ path: String, _ text: String) {
        guard let (file, _) = create(path) else { return }
        _ = try? file.writeAll(Array(text.utf8))
        try? file.close()
    }

    /// Writes `bytes` to the log: into the head while it has room, then into the end, of which
    /// only the last half-limit bytes are kept.
    private func log(_ bytes: [UInt8], _ state: inout State) {
        guard let limit else {
            _ = try? state.file?.writeAll(bytes)
            return
        }
        let head = limit / 2
        var rest = bytes[...]
        if state.written < head {
            let part = rest.prefix(head - state.written)
            _ = try? state.file?.writeAll(part)
            state.written += part.count
            rest = rest.dropFirst(part.count)
        }
        guard !rest.isEmpty else { return }
        state.end.append(contentsOf: rest)
        let keep = limit - head
        if state.end.count > 2 * keep {
            state.left += state.end.count - keep
            state.end.removeFirst(state.end.count - keep)
        }
    }

    /// Appends a chunk of one stream: to the log, to the tail, and to the live view.
    func write(_ bytes: [UInt8], from stream: Stream) {
        guard !bytes.isEmpty else { return }
        state.withLock { state in
            if state.file == nil, !state.failedToOpen {
                let created = Self.create(path)
                state.file = created?.0
                state.openedPath = created?.1
                state.failedToOpen = created == nil
            }
            log(bytes, &state)
            state.tail.append(contentsOf: bytes)
            if state.tail.count > 2 * CommandRunner.tailBytes {
                state.tail.removeFirst(state.tail.count - CommandRunner.tailBytes)
            }
        }
        guard let live else { return }
        let shown = state.withLock { state -> (resync: Bool, Void)? in
            if state.liveBacklog + bytes.count > Self.liveBacklogLimit {
                state.liveSkipped += bytes.count
                state.skippedSince.insert(stream)
                return nil
            }
            state.liveBacklog += bytes.count
            return (state.skippedSince.remove(stream) != nil, ())
        }
        guard let (resync, _) = shown else { return }
        LiveOutput.post { [pending, state] in
            var lines = pending.withLock { pending -> [String] in
                // After a skip, the fragment kept from before it does not belong to what follows.
                var buffer = resync ? [] : pending[stream, default: []]
                buffer.append(contentsOf: bytes)
                var lines: [String] = []
                var start = buffer.startIndex
                while let newline = buffer[start...].firstIndex(of: 0x0A) {
                    lines.append(CommandRunner.printable(buffer[start..<newline]))
                    start = newline + 1
                }
                buffer.removeSubrange(..<start)
                if buffer.count > 64 * 1024 {
                    lines.append(CommandRunner.printable(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
                pending[stream] = buffer
                return lines
            }
            if resync, !lines.isEmpty { lines[0] = "… " + lines[0] }
            for line in lines { live(line) }
            state.withLock { $0.liveBacklog -= bytes.count }
        }
    }

    /// Closes the log and returns the tail and the log's path (nil when the command printed
    /// nothing); a last unterminated line goes to the live view after the rest. Never waits for
    /// the live view: a terminal's pace is not the command's time.
    func finish() -> (tail: String, logFile: String?) {
        let (tail, file, skipped, logPath) = state.withLock { state -> ([UInt8], FileDescriptor?, Int, String) in
            let file = state.file
            state.file = nil
            // The end of a log over its limit, after a line that says what was left out.
            if let limit, !state.end.isEmpty {
                let keep = limit - limit / 2
                if state.end.count > keep {
                    state.left += state.end.count - keep
                    state.end.removeFirst(state.end.count - keep)
                }
                if state.left > 0 {
                    _ = try? file?.writeAll(Array("\n[rehearse: \(state.left) bytes of output left out here: the log keeps its first and last \(limit / 2) bytes (--log-limit)]\n".utf8))
                }
                _ = try? file?.writeAll(state.end)
                state.end = []
            }
            defer { state.liveSkipped = 0 }
            return (state.tail, file, state.liveSkipped, state.openedPath ?? path)
        }
        if let live {
            let logPath = path
            LiveOutput.post { [pending] in
                var rest = [Stream.standardOutput, .standardError].compactMap { stream in
                    pending.withLock { $0[stream] }.flatMap { $0.isEmpty ? nil : CommandRunner.printable($0) }
                }
                if skipped > 0 { rest.append("[\(skipped) bytes of output not shown live (the terminal fell behind); all of it is in \(logPath)]") }
                for line in rest { live(line) }
            }
        }
        try? file?.close()
        return (CommandRunner.tailText(tail), file == nil ? nil : logPath)
    }
}

/// The one queue that live output goes out on, in order: every command's `--verbose` lines, and
/// the progress lines printed among them. Posting never waits; ``drain()`` waits for what was
/// posted (at the end of a run, outside any timing).
public enum LiveOutput {
    private static let queue = DispatchQueue(label: "rehearse.live-output")

    public static func post(_ work: @escaping @Sendable () -> Void) {
        queue.async(execute: work)
    }

    public static func drain() {
        queue.sync {}
    }
}
