public import RehearseCore

/// Receives a rehearsal's events as they happen. The runner awaits each call before going on, so
/// a journal that records `activityStarted` has it on disk before the command starts.
public protocol RunObserver: Sendable {
    func handle(_ event: RunEvent) async
}

/// Hands every event to several observers in turn.
public struct ObserverGroup: RunObserver {
    public var observers: [any RunObserver]

    public init(_ observers: [any RunObserver]) { self.observers = observers }

    public func handle(_ event: RunEvent) async {
        for observer in observers { await observer.handle(event) }
    }
}
