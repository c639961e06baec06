import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Delivers process signals to Swift code the classic way: a `sigaction` handler writes the signal's number into a
/// pipe, and a thread of its own reads the pipe and calls the handlers observing that signal, one at a time.
///
/// Not libdispatch's signal sources: on Linux they hand each signal from the thread that takes it (the main thread,
/// parked in `sigsuspend`) to a `signalfd` by blocking and re-raising it, and a server's first SIGTERM was seen lost
/// there (`scripts/run.sh`'s server, idle, under load: no log line after the signal, still running minutes later,
/// a second SIGTERM stopped it). A pipe write is async-signal-safe and cannot lose a signal short of 64 KiB of them.
enum SignalPipe {
    private struct State {
        var handlers: [CInt: [@Sendable (CInt) -> Void]] = [:]
        var readFD: CInt = -1
    }

    private static let state = Mutex(State())
    /// Set once, before the first handler is installed; read by the signal handler, which may not take a lock.
    nonisolated(unsafe) fileprivate static var writeFD: CInt = -1

    /// Calls `handler` on the pipe's thread each time the process receives `signal`, from now on (the signal's
    /// default action no longer applies).
    static func observe(_ signal: CInt, handler: @escaping @Sendable (CInt) -> Void) {
        let firstForSignal = state.withLock { state -> Bool in
            if state.readFD < 0 { state.readFD = openPipe() }
            let first = state.handlers[signal] == nil
            state.handlers[signal, default: []].append(handler)
            return first
        }
        guard firstForSignal, writeFD >= 0 else { return }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = writeSignalToPipe
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(signal, &action, nil)
    }

    /// Opens the pipe and starts its reader; returns the read end (-1 if no pipe could be made: then signals keep
    /// their default action).
    private static func openPipe() -> CInt {
        var fds: [CInt] = [-1, -1]
        guard pipe(&fds) == 0 else { return -1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // A full pipe drops the signal rather than block the thread the handler interrupted.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        writeFD = fds[1]
        let readFD = fds[0]
        let reader = Thread { readSignals(from: readFD) }
        reader.name = "aimass-signals"
        reader.start()
        return readFD
    }

    private static func readSignals(from fd: CInt) {
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return }
            let signal = CInt(byte)
            let handlers = state.withLock { $0.handlers[signal] ?? [] }
            for handler in handlers { handler(signal) }
        }
    }
}

/// The `sigaction` handler: async-signal-safe (one `write`, errno kept).
private func writeSignalToPipe(_ signal: CInt) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(SignalPipe.writeFD, &byte, 1)
    errno = savedErrno
}
