import Dispatch
import Foundation
import RehearseCore
import RehearseRunner
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP (a closed terminal, a dropped SSH session) into requests to
/// the running rehearsal instead of killing the harness (which would leave the steps' process
/// groups running and the copy half-changed).
final class SignalWatcher: Sendable {
    private let sources: Mutex<[any DispatchSourceSignal]>

    /// Starts watching; `control` receives each signal, `console` tells the operator what happens next.
    init(control: RunControl, console: Console) {
        let queue = DispatchQueue(label: "rehearse.signals")
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                control.receive(signal: number)
                let name = SignalName.of(number)
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
        self.sources = Mutex(sources)
    }

    /// Stops watching and gives both signals their default behaviour back.
    func stop() {
        let sources = self.sources.withLock { sources in
            defer { sources.removeAll() }
            return sources
        }
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        signal(SIGHUP, SIG_DFL)
    }
}
