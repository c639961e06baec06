import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT, for servers that stop gracefully on either.
public enum TerminationSignal {
    /// When the first signal arrived.
    private static let firstSignalAt = Mutex<ContinuousClock.Instant?>(nil)
    /// Signals this close to the first one are the same request to stop: Ctrl-C in a terminal sends SIGINT to the
    /// whole foreground process group, so a server started by a script (`scripts/run.sh`) gets it directly and then
    /// the SIGTERM its script forwards, moments later.
    static let sameRequestWindow: Duration = .seconds(1)

    /// Suspends until the process receives SIGTERM or SIGINT (delivered through ``SignalPipe``). Until this is
    /// called, their default action applies: a signal sent that early ends the process at once.
    ///
    /// With `forcedExitAfter`, the stop is bounded: if the process is still running that long after the first
    /// signal (a graceful shutdown that does not finish, or a process too busy to begin it), or when another signal
    /// arrives more than `sameRequestWindow` after the first, it logs why and exits at once with status 1. The
    /// bound runs on its own thread, so neither a stuck event loop nor a saturated task pool can hold it up.
    public static func wait(forcedExitAfter: Duration? = nil, logger: Logger? = nil) async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        for signalNumber in [SIGTERM, SIGINT] {
            SignalPipe.observe(signalNumber) { _ in
                continuation.yield()
                guard let forcedExitAfter else { return }
                let now = ContinuousClock.now
                let first = firstSignalAt.withLock { first in
                    defer { if first == nil { first = now } }
                    return first
                }
                guard let first else { return armForcedExit(after: forcedExitAfter, logger: logger) }
                if now - first > sameRequestWindow {
                    forceExit("a second termination signal arrived during shutdown", logger: logger)
                }
            }
        }
        logger?.info("stops gracefully at SIGTERM or SIGINT")
        for await _ in stream { return }
    }

    private static func armForcedExit(after limit: Duration, logger: Logger?) {
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        let thread = Thread {
            Thread.sleep(forTimeInterval: seconds)
            forceExit("the shutdown did not finish within \(limit) of the termination signal", logger: logger)
        }
        thread.start()
    }

    private static func forceExit(_ reason: String, logger: Logger?) -> Never {
        logger?.error("exiting without a complete shutdown", metadata: ["reason": "\(reason)"])
        // _exit: atexit handlers and stream flushes could block on what is stuck.
        _exit(1)
    }
}
