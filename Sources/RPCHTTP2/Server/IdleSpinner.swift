import Foundation
import RPCCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the server's core out of idle for a short while after each request, so that the next
/// request of a connection is not delayed by the core waking up (opt-in: ``ServerConfiguration/busyPollWindow``).
///
/// On a virtual machine an idle vCPU halts, and waking it for the next packet costs tens of
/// microseconds — more than a whole unary call takes here. gRPC C++ avoids this by polling.
/// This thread runs under `SCHED_IDLE`: it only ever uses CPU time nothing else wants, and the
/// kernel preempts it at once when the event loop has work. It spins while a request arrived within
/// the window and sleeps otherwise, so an idle server burns nothing.
final class IdleSpinner: Sendable {
    private let window: UInt64
    private let lastActivity = Atomic<UInt64>(0)
    private let sleeping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)

    init(window: Duration) {
        self.window = UInt64(max(0, window.saturatingNanoseconds))
        let thread = Thread { [self] in self.run() }
        thread.name = "aimass-idle-spinner"
        thread.start()
    }

    /// Called by connections on every read: keeps (or starts) the spinning.
    func activity() {
        lastActivity.store(Self.now(), ordering: .relaxed)
        if sleeping.load(ordering: .relaxed), sleeping.compareExchange(expected: true, desired: false, ordering: .relaxed).exchanged {
            wakeup.signal()
        }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        wakeup.signal()
    }

    private func run() {
        var parameters = sched_param(sched_priority: 0)
        // SCHED_IDLE (5 on Linux): the lowest class, preempted by any normal thread that wakes.
        _ = sched_setscheduler(0, 5, &parameters)
        while !stopped.load(ordering: .relaxed) {
            if Self.now() &- lastActivity.load(ordering: .relaxed) < window {
                for _ in 0..<256 { _ = lastActivity.load(ordering: .relaxed) }
                continue
            }
            sleeping.store(true, ordering: .relaxed)
            // Re-check after announcing sleep, so an activity between the check and the wait is not lost.
            if Self.now() &- lastActivity.load(ordering: .relaxed) < window {
                sleeping.store(false, ordering: .relaxed)
                continue
            }
            wakeup.wait()
        }
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
