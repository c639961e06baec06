import Foundation
import RPCCore

/// A fixed set of threads that run model work (recommendation queries) off the Swift cooperative pool.
///
/// A recommendation is synchronous CPU work. Run on the cooperative pool it holds one of its few threads (one per
/// core) for the whole query, so a CPU-heavy model starves every other task of the process: new calls cannot
/// even reach admission control, and streams, health and registry calls wait too. Here the query runs on one of
/// the executor's own threads while the calling task is suspended (a continuation), so the pool stays free.
///
/// - Jobs run first in, first out; idle threads sleep on a condition (no busy waiting).
/// - A job whose task is cancelled, or whose deadline passes, while it waits for a thread never runs: the caller
///   gets `CANCELLED` or `DEADLINE_EXCEEDED`. A job that started runs to its end (it cannot be interrupted).
/// - ``shutdown()`` fails the jobs still waiting with `UNAVAILABLE`, lets running ones finish and joins every
///   thread, once; later submissions fail with `UNAVAILABLE`.
///
/// One executor per process is shared by every replica (``shared``, one thread per usable core): replicas of a
/// worker compete for the same cores anyway, and admission control per replica already bounds each one's share.
///
/// Cheap work does not hop: the sources run a call inline when its model's measured service time is below
/// ``inlineThreshold`` (0.1 ms by default), where the hop (a thread wake-up and two context switches) costs as much as
/// the work and holding a pool thread that long delays other tasks no more than the RPC stack's own work per call.
///
/// ```swift
/// let executor = InferenceExecutor(threads: 2)
/// defer { executor.shutdown() }
/// let items = try await executor.run(deadline: context.deadline) { try model.recommend(user: "42", k: 10) }
/// ```
public final class InferenceExecutor: Sendable {
    private struct Job {
        var deadline: ContinuousClock.Instant?
        /// Runs the work and resumes the waiting task with its result.
        var run: @Sendable () -> Void
        /// Resumes the waiting task with an error, without running the work.
        var fail: @Sendable (RPCError) -> Void
    }

    private struct State {
        /// Jobs waiting for a thread, by id; `order` holds their ids first in, first out (ids of jobs removed by
        /// cancellation are skipped when reached).
        var jobs: [UInt64: Job] = [:]
        var order: [UInt64] = []
        var head = 0
        /// Ids handed out whose job is not queued yet, and those of them already cancelled.
        var reserved: Set<UInt64> = []
        var cancelledEarly: Set<UInt64> = []
        var nextID: UInt64 = 0
        var running = 0
        var stopping = false
        var exited = 0

        mutating func popFirst() -> Job? {
            while head < order.count {
                let id = order[head]
                head += 1
                if let job = jobs.removeValue(forKey: id) {
                    if head > 64, head * 2 > order.count {
                        order.removeFirst(head)
                        head = 0
                    }
                    return job
                }
            }
            order.removeAll(keepingCapacity: true)
            head = 0
            return nil
        }
    }

    /// The process's executor: one thread per core the process may run on, started on first use and never shut
    /// down (it lives as long as the process, as NIO's singleton event loops do).
    public static let shared = InferenceExecutor(threads: usableCores, name: "aimass-inference")

    /// The cores this process may run on (``UsableCores``).
    public static var usableCores: Int { UsableCores.count }

    /// How many threads run jobs.
    public let threads: Int
    /// Seconds of measured service time below which the model sources run a call inline, on the calling task
    /// (0: never).
    public let inlineThreshold: Double
    // NSCondition: the queue's lock and the idle threads' wait in one (Mutex has no condition variable).
    private let condition = NSCondition()
    // Only touched with `condition` locked.
    nonisolated(unsafe) private var state = State()

    /// Starts `threads` threads (at least one) named `name-N`; calls of models faster than `inlineThreshold` seconds
    /// run inline.
    public init(threads: Int, inlineThreshold: Double = 0.000_1, name: String = "aimass-inference") {
        self.threads = max(threads, 1)
        self.inlineThreshold = max(inlineThreshold, 0)
        for index in 0..<self.threads {
            let thread = Thread { [self] in self.loop() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Jobs waiting for a thread now.
    public var queued: Int { locked { $0.jobs.count } }

    /// Jobs running now.
    public var running: Int { locked { $0.running } }

    /// Runs `work` on one of the executor's threads and returns its result; the calling task is suspended meanwhile.
    ///
    /// - Parameters:
    ///   - deadline: When the call's deadline passes; a job still waiting for a thread then is dropped.
    ///   - work: Synchronous work (it must not block on the cooperative pool).
    /// - Throws: What `work` throws; ``RPCError`` `CANCELLED` or `DEADLINE_EXCEEDED` when the job is dropped
    ///   before it ran, `UNAVAILABLE` when the executor is shut down.
    public func run<T: Sendable>(
        deadline: ContinuousClock.Instant? = nil,
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        let id = locked { state -> UInt64 in
            state.nextID += 1
            state.reserved.insert(state.nextID)
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let job = Job(
                    deadline: deadline,
                    run: { continuation.resume(with: Result { try work() }) },
                    fail: { continuation.resume(throwing: $0) }
                )
                if let refusal = enqueue(job, id: id) { job.fail(refusal) }
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// Fails waiting jobs with `UNAVAILABLE` at once, then waits for running ones and joins every thread (waits
    /// until each has left its loop). Blocks, so never call it from a job; only the first call does the work,
    /// later ones return at once.
    public func shutdown() {
        condition.lock()
        if state.stopping {
            condition.unlock()
            return
        }
        state.stopping = true
        var dropped: [Job] = []
        while let job = state.popFirst() { dropped.append(job) }
        condition.broadcast()
        condition.unlock()
        for job in dropped { job.fail(RPCError(code: .unavailable, message: "the inference executor is shut down")) }
        condition.lock()
        while state.exited < threads { condition.wait() }
        condition.unlock()
    }

    /// Queues a job, or returns why it cannot run (cancelled before it was queued, or shut down).
    private func enqueue(_ job: Job, id: UInt64) -> RPCError? {
        condition.lock()
        defer { condition.unlock() }
        state.reserved.remove(id)
        if state.cancelledEarly.remove(id) != nil { return Self.cancelled }
        if state.stopping { return RPCError(code: .unavailable, message: "the inference executor is shut down") }
        state.jobs[id] = job
        state.order.append(id)
        condition.signal()
        return nil
    }

    private func cancel(_ id: UInt64) {
        let job: Job? = locked { state in
            if let job = state.jobs.removeValue(forKey: id) { return job }
            if state.reserved.contains(id) { state.cancelledEarly.insert(id) }
            return nil
        }
        job?.fail(Self.cancelled)
    }

    private func loop() {
        condition.lock()
        while true {
            if let job = state.popFirst() {
                state.running += 1
                condition.unlock()
                if let deadline = job.deadline, deadline <= .now {
                    job.fail(Self.deadlineExceeded)
                } else {
                    job.run()
                }
                condition.lock()
                state.running -= 1
                continue
            }
            if state.stopping { break }
            condition.wait()
        }
        state.exited += 1
        condition.broadcast()
        condition.unlock()
    }

    private func locked<R>(_ body: (inout State) -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body(&state)
    }

    private static let cancelled = RPCError(
        code: .cancelled, message: "cancelled while waiting for an inference thread"
    )
    private static let deadlineExceeded = RPCError(
        code: .deadlineExceeded, message: "deadline exceeded while waiting for an inference thread"
    )
}
