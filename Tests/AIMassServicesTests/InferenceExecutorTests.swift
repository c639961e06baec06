import AIMassServices
@testable import AIMassServer
import Foundation
import RPCCore
import Synchronization
import Testing

/// Model work runs on the executor's own threads; a call that ends while waiting for a thread never runs.
@Suite("Inference executor")
struct InferenceExecutorTests {
    /// A job that holds the executor's only thread until `release()`; `started()` returns once it runs.
    final class Blocker: Sendable {
        private let gate = DispatchSemaphore(value: 0)
        private let running = Mutex<(started: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

        func work() {
            let waiter = running.withLock { state in
                state.started = true
                return state.waiter
            }
            waiter?.resume()
            gate.wait()
        }

        func started() async {
            await withCheckedContinuation { continuation in
                let already = running.withLock { state in
                    if state.started { return true }
                    state.waiter = continuation
                    return false
                }
                if already { continuation.resume() }
            }
        }

        func release() { gate.signal() }
    }

    /// Whether a job ran.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    /// Runs `body` with a one-thread executor whose thread a running job holds until `blocker.release()` (done at
    /// the end at the latest).
    func withBusyThread(_ body: (InferenceExecutor, Blocker) async throws -> Void) async throws {
        let executor = InferenceExecutor(threads: 1)
        defer { executor.shutdown() }
        let blocker = Blocker()
        let first = Task { try await executor.run { blocker.work() } }
        await blocker.started()
        try await body(executor, blocker)
        blocker.release()
        try await first.value
    }

    /// Waits (yielding) until the executor has `count` jobs queued.
    func waitQueued(_ executor: InferenceExecutor, _ count: Int) async {
        while executor.queued < count { await Task.yield() }
    }

    @Test("blocking work runs on the executor's threads: more jobs than the cooperative pool has threads run at once")
    func runsOnExecutorThreads() async throws {
        // Each job blocks until all of them have started: on the cooperative pool (one thread per core) the extra
        // ones could never start and the barrier would time out.
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let executor = InferenceExecutor(threads: count + 1)
        defer { executor.shutdown() }
        let arrived = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await executor.run {
                        arrived.signal()
                        return proceed.wait(timeout: .now() + 30) == .success
                    }
                }
            }
            // The test's own task waits on a plain thread too, so the pool is not needed for the barrier.
            try await executor.run {
                for _ in 0..<count { _ = arrived.wait(timeout: .now() + 30) }
                for _ in 0..<count { proceed.signal() }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: count))
        await #expect(throws: RPCError.self) {
            try await executor.run { () throws -> Int in throw RPCError(code: .notFound, message: "no such item") }
        }
    }

    @Test("the shared executor has one thread per core the process may run on")
    func sharedSize() {
        #expect(InferenceExecutor.usableCores >= 1)
        #expect(InferenceExecutor.usableCores <= ProcessInfo.processInfo.activeProcessorCount)
        #expect(InferenceExecutor.shared.threads == InferenceExecutor.usableCores)
    }

    @Test("a call cancelled while waiting for a thread fails with CANCELLED and never runs")
    func cancelledWhileQueued() async throws {
        try await withBusyThread { executor, blocker in
            let ran = Flag()
            let second = Task { try await executor.run { ran.set() } }
            await waitQueued(executor, 1)
            second.cancel()
            let result = await second.result
            #expect((try? result.get()) == nil)
            #expect((result.failure as? RPCError)?.code == .cancelled)
            #expect(executor.queued == 0)
            blocker.release()
            // The thread is free again and the cancelled job was dropped, not run late.
            let answer = try await executor.run { 42 }
            #expect(answer == 42)
            #expect(!ran.isSet)
        }
    }

    @Test("a call already cancelled before it is queued never runs")
    func cancelledBeforeQueued() async throws {
        let executor = InferenceExecutor(threads: 1)
        defer { executor.shutdown() }
        let ran = Flag()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await executor.run { ran.set() }
        }
        #expect((await task.result.failure as? RPCError)?.code == .cancelled)
        #expect(!ran.isSet)
    }

    @Test("a call whose deadline passes while it waits for a thread fails with DEADLINE_EXCEEDED and never runs")
    func deadlinePassedWhileQueued() async throws {
        try await withBusyThread { executor, blocker in
            let ran = Flag()
            // The deadline is already behind us when a thread picks the job up.
            let late = Task { try await executor.run(deadline: .now - .seconds(1)) { ran.set() } }
            await waitQueued(executor, 1)
            blocker.release()
            #expect((await late.result.failure as? RPCError)?.code == .deadlineExceeded)
            #expect(!ran.isSet)
        }
    }

    @Test("shutdown fails waiting calls with UNAVAILABLE, finishes the running one, joins once; later calls fail")
    func shutdown() async throws {
        let executor = InferenceExecutor(threads: 1)
        let blocker = Blocker()
        let first = Task { try await executor.run { blocker.work(); return "done" } }
        await blocker.started()
        let waiting = Task { try await executor.run { "never" } }
        await waitQueued(executor, 1)
        let stopper = Task.detached { executor.shutdown() }
        // Shutdown drops the waiting call at once, then waits for the running one.
        #expect((await waiting.result.failure as? RPCError)?.code == .unavailable)
        blocker.release()
        await stopper.value
        #expect(try await first.value == "done")
        executor.shutdown()
        #expect((await Task { try await executor.run { 1 } }.result.failure as? RPCError)?.code == .unavailable)
    }
}

@Suite("Service time estimate")
struct ServiceTimeEstimateTests {
    @Test("unknown until the first sample (so a model's first call goes to the executor), then an EWMA of samples")
    func estimate() {
        let estimate = ServiceTimeEstimate()
        #expect(estimate.seconds == .infinity)
        estimate.record(0.002)
        #expect(estimate.seconds == 0.002)
        estimate.record(0.004)
        #expect(abs(estimate.seconds - 0.0024) < 1e-12)
    }

    @Test("one preempted sample cannot move a cheap model past the inline threshold; a model that slowed converges")
    func outliersClamped() {
        let estimate = ServiceTimeEstimate()
        estimate.record(0.000_010)
        estimate.record(0.005)  // a 10 µs call preempted for 5 ms
        #expect(abs(estimate.seconds - 0.000_016) < 1e-12, "counted as 4x the estimate, not 500x")
        #expect(estimate.seconds < InferenceExecutor.shared.inlineThreshold)
        for _ in 0..<40 { estimate.record(0.002) }  // the model really takes 2 ms now
        #expect(abs(estimate.seconds - 0.002) < 0.000_1)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

@Suite("Worker inference threads")
struct WorkerInferenceThreadsTests {
    @Test("a worker runs model work on one thread per whole core it offers, at most the cores it may use")
    func threadsFollowOfferedCPU() {
        let usable = InferenceExecutor.usableCores
        #expect(WorkerInference.threads(cpuMillis: 1000) == 1)
        #expect(WorkerInference.threads(cpuMillis: 500) == 1)
        #expect(WorkerInference.threads(cpuMillis: 1001) == min(2, usable))
        #expect(WorkerInference.threads(cpuMillis: 0) == usable)
        #expect(WorkerInference.threads(cpuMillis: Int64(usable + 7) * 1000) == usable)
    }
}

@Suite("Off-pool threads for model builds")
struct OffPoolThreadTests {
    @Test("builds run on threads of their own: more of them than the cooperative pool has threads run at once")
    func buildsDoNotHoldThePool() async throws {
        // Each job blocks until all have started: on the cooperative pool (one thread per core) the barrier would
        // time out. The releasing job runs off the pool too.
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let arrived = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await OffPoolThread.run(name: "test-build") {
                        arrived.signal()
                        return proceed.wait(timeout: .now() + 30) == .success
                    }
                }
            }
            try await OffPoolThread.run(name: "test-release") {
                for _ in 0..<count { _ = arrived.wait(timeout: .now() + 30) }
                for _ in 0..<count { proceed.signal() }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: count))
        await #expect(throws: RPCError.self) {
            try await OffPoolThread.run(name: "test-fail") { () throws -> Int in
                throw RPCError(code: .failedPrecondition, message: "malformed artifact")
            }
        }
    }
}
