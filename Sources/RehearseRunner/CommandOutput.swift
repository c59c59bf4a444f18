import Foundation
import RehearseCore
import SystemPackage

/// Where one command's output goes: a log file created on the first byte (a command that prints
/// nothing costs no file, which on ext4 is a third of a millisecond each), the last bytes kept in
/// memory for the outcome's tail, and each line to the live view when there is one.
///
/// Both output streams write here from their own tasks, so every method takes the lock.
final class CommandOutput: Sendable {
    private struct State {
        var file: FileDescriptor?
        var failedToOpen = false
        var tail: [UInt8] = []
        /// The unterminated end of each stream's last chunk, for the live view: standard output
        /// and standard error are split into lines separately, so they never merge mid-line.
        var pending: [Stream: [UInt8]] = [:]
    }

    enum Stream: Sendable { case standardOutput, standardError }

    let path: String
    private let live: (@Sendable (String) -> Void)?
    private let state = Locked(State())
    /// Live lines are handed over here, in order, so that a terminal that stops reading (a paused
    /// pager) holds up only this queue, never the thread that watches every command's timeout.
    private static let liveQueue = DispatchQueue(label: "rehearse.live-output")

    init(path: String, live: (@Sendable (String) -> Void)?) {
        self.path = path
        self.live = live
    }

    /// Appends a chunk of one stream: to the log, to the tail, and line by line to the live view.
    func write(_ bytes: [UInt8], from stream: Stream) {
        guard !bytes.isEmpty else { return }
        let lines: [String] = state.withLock { state in
            if state.file == nil, !state.failedToOpen {
                state.file = try? FileDescriptor.open(
                    FilePath(path), .writeOnly, options: [.create, .truncate, .append],
                    permissions: [.ownerReadWrite])
                state.failedToOpen = state.file == nil
            }
            _ = try? state.file?.writeAll(bytes)
            state.tail.append(contentsOf: bytes)
            if state.tail.count > 2 * CommandRunner.tailBytes {
                state.tail.removeFirst(state.tail.count - CommandRunner.tailBytes)
            }
            guard live != nil else { return [] }
            var pending = state.pending[stream, default: []]
            pending.append(contentsOf: bytes)
            var lines: [String] = []
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                lines.append(CommandRunner.printable(pending[start..<newline]))
                start = newline + 1
            }
            pending.removeSubrange(..<start)
            if pending.count > 64 * 1024 {
                lines.append(CommandRunner.printable(pending))
                pending.removeAll(keepingCapacity: true)
            }
            state.pending[stream] = pending
            return lines
        }
        if let live, !lines.isEmpty { Self.liveQueue.async { for line in lines { live(line) } } }
    }

    /// Flushes a last unterminated line, closes the log, and returns the tail and the log's path
    /// (nil when the command printed nothing).
    func finish() -> (tail: String, logFile: String?) {
        let (rest, tail, file) = state.withLock { state -> ([String], [UInt8], FileDescriptor?) in
            let rest = live == nil ? [] : [Stream.standardOutput, .standardError].compactMap { stream in
                state.pending[stream].flatMap { $0.isEmpty ? nil : CommandRunner.printable($0) }
            }
            state.pending.removeAll()
            let file = state.file
            state.file = nil
            return (rest, state.tail, file)
        }
        if let live {
            // Every line of this command is out before its end is reported.
            Self.liveQueue.sync { for line in rest { live(line) } }
        }
        try? file?.close()
        return (CommandRunner.tailText(tail), file == nil ? nil : path)
    }
}
