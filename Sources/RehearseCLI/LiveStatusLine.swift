import Foundation
import Synchronization
import RehearseCore
import RehearseReports

/// The bottom line of a rehearsal on a terminal, redrawn five times a second: the steps running
/// now with their elapsed times and, once the rollback is triggered, the time left in the budget.
/// Ordinary progress lines are printed above it. Only used when standard output is a terminal.
final class LiveStatusLine: Sendable {
    private struct State {
        var running: [Activity: ContinuousClock.Instant] = [:]
        var order: [Activity] = []
        var rollbackDeadline: ContinuousClock.Instant?
        var budget: Duration = .zero
        var origin: ContinuousClock.Instant = .now
        var shown = false
        var ticker: Task<Void, Never>?
    }

    private let style: TextStyle
    private let state = Mutex(State())

    init(style: TextStyle) {
        self.style = style
    }

    /// Starts redrawing (a run has begun).
    func start() {
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                self?.redraw()
            }
        }
        state.withLock { $0.ticker = ticker }
    }

    /// Clears the line (the run is over).
    func stop() {
        state.withLock { state in
            state.ticker?.cancel()
            state.ticker = nil
            if state.shown { Self.write("\r\u{1B}[2K") }
            state.shown = false
        }
    }

    func began(_ activity: Activity) {
        state.withLock { state in
            state.running[activity] = .now
            state.order.append(activity)
        }
    }

    func ended(_ activity: Activity) {
        state.withLock { state in
            state.running.removeValue(forKey: activity)
            state.order.removeAll { $0 == activity }
        }
    }

    /// The runner announces a run right after taking its clock origin: close enough to count down from.
    func runStarted(budget: Duration) {
        state.withLock { state in
            state.origin = .now
            state.budget = budget
            state.rollbackDeadline = nil
            state.running.removeAll()
            state.order.removeAll()
        }
    }

    func rollbackStarted(at offset: Duration) {
        state.withLock { $0.rollbackDeadline = $0.origin + offset + $0.budget }
    }

    /// Prints a line above the status line.
    func print(_ line: String) {
        state.withLock { state in
            Self.write((state.shown ? "\r\u{1B}[2K" : "") + WorkflowCommandText.neutralized(line) + "\n" + status(state))
            state.shown = true
        }
    }

    private func redraw() {
        state.withLock { state in
            // Stopped while the ticker slept: the run is over, and its verdict may be on screen.
            guard state.ticker != nil else { return }
            Self.write("\r\u{1B}[2K" + status(state))
            state.shown = true
        }
    }

    private func status(_ state: State) -> String {
        let now = ContinuousClock.now
        var parts: [String] = []
        let order = state.order
        if !order.isEmpty {
            let items = order.prefix(4).map { activity -> String in
                let elapsed = state.running[activity].map { now - $0 } ?? .zero
                // (A stop hook beside the step it stops: not two of the same name.)
                return "\(activity.kind == .stop ? "stop hook of " : "")\(activity.name) \(DurationText.precise(elapsed))"
            }
            parts.append("running: " + items.joined(separator: ", ") + (order.count > 4 ? " +\(order.count - 4) more" : ""))
        }
        if let deadline = state.rollbackDeadline {
            let left = deadline - now
            parts.append(left >= .zero
                ? "rollback budget left " + DurationText.precise(left)
                : style.red("over budget by " + DurationText.precise(.zero - left)))
        }
        return style.dim(parts.joined(separator: "  ·  "))
    }

    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in _ = Glibc.write(STDOUT_FILENO, buffer.baseAddress, buffer.count) }
    }
}
