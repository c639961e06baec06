import Dispatch
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT, for servers that stop gracefully on either.
public enum TerminationSignal {
    /// The signal sources stay alive for the whole process; they are only used on their queue.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    /// The sources' own serial queue: a global queue is where Swift's task pool runs on Linux, so with its threads
    /// busy or blocked the sources' registration (and their handlers) could wait there for seconds, and the signals
    /// `wait` ignores until then were lost (`scripts/run.sh`'s SIGTERM once, under load: the server kept running).
    private static let queue = DispatchQueue(label: "aimass.termination-signal")
    /// When the first signal arrived; read and written only on `queue`.
    nonisolated(unsafe) private static var firstSignalAt: ContinuousClock.Instant?
    /// Signals this close to the first one are the same request to stop: Ctrl-C in a terminal sends SIGINT to the
    /// whole foreground process group, so a server started by a script (`scripts/run.sh`) gets it directly and then
    /// the SIGTERM its script forwards, moments later.
    static let sameRequestWindow: Duration = .seconds(1)

    /// Suspends until the process receives SIGTERM or SIGINT. Their default action (ending the process) is not
    /// turned off first: the sources take the signals once registered, moments later, and a signal in between
    /// still ends the process, where ignoring it until then lost it (the process then ran on).
    ///
    /// With `forcedExitAfter`, the stop is bounded: if the process is still running that long after the first
    /// signal (a graceful shutdown that does not finish, or a process too busy to begin it), or when another signal
    /// arrives more than `sameRequestWindow` after the first, it logs why and exits at once with status 1. The bound runs on its own thread, so neither a stuck
    /// event loop nor a saturated task pool can hold it up.
    public static func wait(forcedExitAfter: Duration? = nil, logger: Logger? = nil) async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        for signalNumber in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                continuation.yield()
                guard let forcedExitAfter else { return }
                let now = ContinuousClock.now
                guard let first = firstSignalAt else {
                    firstSignalAt = now
                    armForcedExit(after: forcedExitAfter, logger: logger)
                    return
                }
                if now - first > sameRequestWindow {
                    forceExit("a second termination signal arrived during shutdown", logger: logger)
                }
            }
            source.resume()
            sources.append(source)
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
