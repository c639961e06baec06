import Dispatch
import NIOCore
import NIOPosix
import Synchronization

/// Runs async work to completion for a synchronous caller (a store called under a lock), on a thread of its own.
///
/// The work's task prefers this bridge's event loop as its executor, so it never needs a thread of Swift's
/// cooperative pool: a caller blocking one of those (there are as many as cores) cannot starve the work it waits for.
public final class BlockingBridge: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let executor: LoopTaskExecutor

    /// Starts the bridge's thread.
    public init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        executor = LoopTaskExecutor(loop: group.next())
    }

    deinit {
        group.shutdownGracefully { _ in }
    }

    /// Runs `work` and waits for its result, for at most `timeout` (then ``EtcdError/unavailable(_:)``; the work
    /// goes on and its result is dropped). Never call it from the bridge's own thread.
    ///
    /// The bound matters because `work` may still need a cooperative thread (an `RPCClient` connects in a task of
    /// its own): if every one is blocked behind the caller, giving up frees the caller's, and the next call finds the
    /// connection made.
    public func run<T: Sendable>(
        timeout: Duration = .seconds(10), _ work: @escaping @Sendable () async throws -> T
    ) throws -> T {
        precondition(!executor.loop.inEventLoop, "BlockingBridge.run called from its own thread")
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<T, any Error>?>(nil)
        Task(executorPreference: executor) {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        guard done.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else {
            throw EtcdError.unavailable("etcd did not answer within \(timeout)")
        }
        // The task stored its outcome before signalling.
        guard let outcome = result.withLock({ $0 }) else { throw CancellationError() }
        return try outcome.get()
    }
}

/// A task executor that runs jobs on one NIO event loop.
final class LoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
