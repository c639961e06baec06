import DequeModule
import Foundation

/// A task executor with threads of its own, for handlers that block the thread they run on: a store called under
/// its lock, a synchronous call to a remote store (etcd), a disk write waiting for `fsync`.
///
/// Swift's cooperative pool has one thread per core and serves every other task of the process: a handler blocked
/// there for the seconds an etcd election takes holds one of them, two hold every thread of a 2-core machine, and
/// streams, leases and every other call wait with them. Tasks that prefer this executor (see
/// ``RPCRouter/preferringExecutor(_:)``) run here instead; a blocked one holds one of these threads only.
///
/// Jobs run first in, first out on `threads` threads that sleep on a condition when idle. It lives as long as the
/// process (``shared``), as NIO's singleton event loops do.
public final class BlockingTaskExecutor: TaskExecutor, @unchecked Sendable {
    /// The process's executor for blocking handlers, started on first use.
    public static let shared = BlockingTaskExecutor(threads: 8, name: "aimass-blocking")

    /// How many threads run jobs: as many blocked handlers as this can wait at once before the next waits for one.
    public let threads: Int
    /// Names the executor's threads.
    public let name: String
    // The queue's lock and the idle threads' wait in one.
    private let condition = NSCondition()
    // Only touched with `condition` locked.
    private var jobs = Deque<UnownedJob>()

    /// Starts `threads` threads (at least one) named `name-N`.
    public init(threads: Int, name: String) {
        self.threads = max(1, threads)
        self.name = name
        for index in 0..<self.threads {
            let thread = Thread { [self] in runJobs() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Whether the calling thread is one of this executor's.
    var ownsCurrentThread: Bool {
        Thread.current.threadDictionary[Self.threadKey] as? String == name
    }

    private static let threadKey = "aimass.blocking-task-executor"

    private func runJobs() {
        // Foundation does not apply a name set before `start` on Linux (threads keep the name of the thread that
        // made them); the dictionary tells this executor's threads apart.
        Thread.current.threadDictionary[Self.threadKey] = name
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
