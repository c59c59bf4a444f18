import Foundation

/// CPU-bound test work on a thread of its own, awaited: Swift's cooperative pool has one thread
/// per core (two here), and a test that computes for seconds on them holds up every other test's
/// timers and subprocess monitoring (a step then outlives the signal a test meant for it).
public enum OwnThread {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }
}
