import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Runs an action on each SIGHUP (e.g. reloading certificates), instead of the default of terminating.
public enum HangupSignal {
    /// The signal source stays alive for the whole process; it is only used on its queue.
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Calls `action` on a global queue each time the process receives SIGHUP.
    public static func onReceive(_ action: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
        sources.append(source)
    }
}
