import Synchronization

/// A model's recent service time (the time its work takes on a thread), which decides whether its calls are cheap
/// enough to run inline instead of hopping to the ``InferenceExecutor``.
///
/// An EWMA (weight 0.2) kept in one atomic word: concurrent updates may lose a sample, which an estimate can afford.
/// Unknown (no sample yet) reads as infinity, so a model's first call always goes to the executor.
public final class ServiceTimeEstimate: Sendable {
    private let bits = Atomic<UInt64>(Double.infinity.bitPattern)

    /// Creates an estimate with no sample.
    public init() {}

    /// The estimate in seconds (infinity before the first sample).
    public var seconds: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }

    /// Adds a sample, in seconds; one above 4× the estimate counts as 4×.
    ///
    /// Why the clamp: a sample is wall-clock time, and a call preempted by another thread of the core (a timer, the
    /// executor, the kernel) can read 100× its work. Unclamped, one such sample moved a 10 µs model over the inline
    /// threshold; its next calls then went to the executor and built up the concurrency that overload protection
    /// sheds (RESOURCE_EXHAUSTED at 16 calls in flight on one core). A model that really got slower still converges:
    /// the estimate may grow 1.6× per call.
    public func record(_ sample: Double) {
        let current = seconds
        let next = current.isFinite ? current + 0.2 * (min(sample, 4 * current) - current) : sample
        bits.store(next.bitPattern, ordering: .relaxed)
    }
}

/// One ``ServiceTimeEstimate`` per key (a model version), created on first use.
final class ServiceTimeEstimates: Sendable {
    private let estimates = Mutex<[String: ServiceTimeEstimate]>([:])

    func estimate(for key: String) -> ServiceTimeEstimate {
        estimates.withLock { estimates in
            if let existing = estimates[key] { return existing }
            let created = ServiceTimeEstimate()
            estimates[key] = created
            return created
        }
    }
}

extension InferenceExecutor {
    /// Runs `work` inline when `estimate` says it takes less than ``inlineThreshold``, else on an executor thread;
    /// either way records its service time in `estimate` and returns it with the result.
    ///
    /// - Throws: What ``run(deadline:_:)`` throws.
    func run<T: Sendable>(
        deadline: ContinuousClock.Instant?,
        measuring estimate: ServiceTimeEstimate,
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> (T, service: Double) {
        let measured: @Sendable () throws -> (T, service: Double) = { try timed(work) }
        let outcome = try await estimate.seconds < inlineThreshold ? measured() : run(deadline: deadline, measured)
        estimate.record(outcome.service)
        return outcome
    }
}

/// Runs `work` and returns its result with the seconds it took (its service time, on whatever thread runs it).
func timed<T>(_ work: () throws -> T) rethrows -> (T, service: Double) {
    let begin = MonotonicTime.now()
    let result = try work()
    return (result, MonotonicTime.now() - begin)
}
