import Foundation
import RehearseCore
import RehearseReports

/// The bottom line of a rehearsal on a terminal, redrawn five times a second: the steps running
/// now with their elapsed times and, once the rollback is triggered, the time left in the budget.
/// Ordinary progress lines are printed above it. Only used when standard output is a terminal.
final class LiveStatusLine: @unchecked Sendable {
    private let lock = NSLock()
    private let style: TextStyle
    private var running: [Activity: ContinuousClock.Instant] = [:]
    private var order: [Activity] = []
    private var rollbackDeadline: ContinuousClock.Instant?
    private var budget: Duration = .zero
    private var origin: ContinuousClock.Instant = .now
    private var shown = false
    private var ticker: Task<Void, Never>?

    init(style: TextStyle) {
        self.style = style
    }

    func start() {
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                self?.redraw()
            }
        }
    }

    /// Clears the line for good.
    func stop() {
        ticker?.cancel()
        lock.withLock {
            if shown { Self.write("\r\u{1B}[2K") }
            shown = false
        }
    }

    func began(_ activity: Activity) {
        lock.withLock {
            running[activity] = .now
            order.append(activity)
        }
    }

    func ended(_ activity: Activity) {
        lock.withLock {
            running.removeValue(forKey: activity)
            order.removeAll { $0 == activity }
        }
    }

    /// The runner announces a run right after taking its clock origin: close enough to count down from.
    func runStarted(budget: Duration) {
        lock.withLock {
            origin = .now
            self.budget = budget
            rollbackDeadline = nil
            running.removeAll()
            order.removeAll()
        }
    }

    func rollbackStarted(at offset: Duration) {
        lock.withLock { rollbackDeadline = origin + offset + budget }
    }

    /// Prints a line above the status line.
    func print(_ line: String) {
        lock.withLock {
            Self.write((shown ? "\r\u{1B}[2K" : "") + line + "\n" + status())
            shown = true
        }
    }

    private func redraw() {
        lock.withLock {
            Self.write("\r\u{1B}[2K" + status())
            shown = true
        }
    }

    private func status() -> String {
        let now = ContinuousClock.now
        var parts: [String] = []
        if !order.isEmpty {
            let items = order.prefix(4).map { activity -> String in
                let elapsed = running[activity].map { now - $0 } ?? .zero
                return "\(activity.name) \(DurationText.precise(elapsed))"
            }
            parts.append("running: " + items.joined(separator: ", ") + (order.count > 4 ? " +\(order.count - 4) more" : ""))
        }
        if let deadline = rollbackDeadline {
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
