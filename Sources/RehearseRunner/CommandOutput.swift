import Foundation
import RehearseCore
import SystemPackage

/// Where one command's output goes: a log file created on the first byte (a command that prints
/// nothing costs no file, which on ext4 is a third of a millisecond each), the last bytes kept in
/// memory for the outcome's tail, and, with a live view, each line to it through ``LiveOutput``.
///
/// ``write(_:from:)`` runs on the reaper thread, so it only appends: splitting into lines and
/// making them printable happen on the live-output queue, where a slow terminal holds up nothing
/// but the live view itself.
final class CommandOutput: Sendable {
    private struct State {
        var file: FileDescriptor?
        var failedToOpen = false
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
    private let live: (@Sendable (String) -> Void)?
    private let state = Locked(State())
    /// The unterminated end of each stream's output so far; touched only on the live-output queue.
    private let pending = Locked([Stream: [UInt8]]())

    init(path: String, live: (@Sendable (String) -> Void)?) {
        self.path = path
        self.live = live
    }

    /// Appends a chunk of one stream: to the log, to the tail, and to the live view.
    func write(_ bytes: [UInt8], from stream: Stream) {
        guard !bytes.isEmpty else { return }
        state.withLock { state in
            if state.file == nil, !state.failedToOpen {
                state.file = try? FileDescriptor.open(
                    FilePath(path), .writeOnly, options: [.create, .truncate, .append, .closeOnExec],
                    permissions: [.ownerReadWrite])
                state.failedToOpen = state.file == nil
            }
            _ = try? state.file?.writeAll(bytes)
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
        let (tail, file, skipped) = state.withLock { state -> ([UInt8], FileDescriptor?, Int) in
            let file = state.file
            state.file = nil
            defer { state.liveSkipped = 0 }
            return (state.tail, file, state.liveSkipped)
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
        return (CommandRunner.tailText(tail), file == nil ? nil : path)
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
