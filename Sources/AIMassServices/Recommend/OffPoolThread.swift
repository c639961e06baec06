import Foundation

/// Runs long blocking work (building a model's index, hashing a large artifact) on a thread of its own, so that it
/// never holds a thread of the Swift cooperative pool — which serves every other call of the process — for seconds.
///
/// ```swift
/// let recommender = try await OffPoolThread.run(name: "aimass-build") { try RecommenderBuilder.build(...) }
/// ```
public enum OffPoolThread {
    /// Runs `work` on a new thread and returns its result. A thread per call: these calls are rare (one per model
    /// load) and long, so a pool would only add a queue.
    public static func run<T: Sendable>(name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try work() })
            }
            thread.name = name
            thread.start()
        }
    }
}
