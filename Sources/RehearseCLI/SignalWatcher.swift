import Dispatch
import Foundation
import RehearseRunner

/// Turns SIGINT and SIGTERM into requests to the running rehearsal instead of killing the harness
/// (which would leave the steps' process groups running and the copy half-changed).
final class SignalWatcher: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "rehearse.signals")

    /// Starts watching; `control` receives each signal, `console` tells the operator what happens next.
    init(control: RunControl, console: Console) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                control.receive(signal: number)
                let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                if control.signalCount == 1 {
                    console.err("\n\(name): stopping running steps and rolling back what was applied; "
                                + "interrupt again to abandon the rollback")
                } else if control.signalCount == 2 {
                    console.err("\n\(name) again: abandoning the rollback; what is left applied follows")
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops watching and gives both signals their default behaviour back.
    func stop() {
        for source in sources { source.cancel() }
        sources.removeAll()
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
