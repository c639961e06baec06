#if canImport(Glibc)
import Glibc
#endif

/// Runs an action on each SIGHUP (e.g. reloading certificates), instead of the default of terminating.
public enum HangupSignal {
    /// Calls `action` each time the process receives SIGHUP, on the thread that delivers signals (``SignalPipe``):
    /// keep it short.
    public static func onReceive(_ action: @escaping @Sendable () -> Void) {
        SignalPipe.observe(SIGHUP) { _ in action() }
    }
}
