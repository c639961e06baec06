import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT, for servers that stop gracefully on either.
public enum TerminationSignal {
    /// The signal sources stay alive for the whole process; they are only used on their queue.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Suspends until the process receives SIGTERM or SIGINT (their default action is disabled).
    public static func wait() async {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        for signalNumber in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { return }
    }
}
