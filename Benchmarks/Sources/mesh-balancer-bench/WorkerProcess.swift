#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A benchmark worker in a child process (`mesh-balancer-bench worker`), so that "kill" is a real SIGKILL: the
/// kernel closes its sockets mid-call, as when a worker machine dies, with no graceful shutdown.
///
/// Protocol over the child's pipes: it prints `port N` once serving, then `load IN_FLIGHT EWMA_US` every 100 ms; a
/// `stop MS` line on its stdin stops it gracefully with that grace period (EOF: no grace).
final class WorkerProcess: Sendable {
    private struct State {
        var load: (inFlight: UInt32, latencyEwmaUs: Int64) = (0, 0)
        var exited = false
    }

    let id: String
    let delay: Duration
    private let state = Mutex(State())
    private let portBox = Mutex(0)
    private let pid = Mutex<pid_t>(0)
    /// The child's stdin (`FileHandle` is not Sendable; only ever used under this lock).
    private let input = Mutex<FileHandle?>(nil)

    init(id: String, delay: Duration) {
        self.id = id
        self.delay = delay
    }

    var address: String { "127.0.0.1:\(portBox.withLock { $0 })" }

    /// The last load the child reported (in-flight calls, latency EWMA in µs).
    var load: (inFlight: UInt32, latencyEwmaUs: Int64) { state.withLock { $0.load } }

    /// Whether the child is still running.
    var isAlive: Bool { !state.withLock { $0.exited } }

    /// Starts the child and returns once it listens.
    func start() async throws {
        let process = Process()
        // This very executable, whatever the path it was started by.
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        let delayMs = Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
        process.arguments = ["worker", "--id", id, "--delay-ms", String(delayMs)]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        pid.withLock { $0 = process.processIdentifier }
        input.withLock { $0 = stdin.fileHandleForWriting }
        let reader = stdout.fileHandleForReading
        let port: Int = await withCheckedContinuation { continuation in
            // A thread of its own: the reads block, and the cooperative pool has only as many threads as cores.
            let thread = Thread { [self] in
                var resumed = false
                var buffer = Data()
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                        buffer.removeSubrange(buffer.startIndex...newline)
                        let fields = line.split(separator: " ")
                        if fields.first == "port", !resumed {
                            resumed = true
                            continuation.resume(returning: fields.count > 1 ? Int(fields[1]) ?? 0 : 0)
                        } else if fields.first == "load", fields.count == 3 {
                            let load = (UInt32(fields[1]) ?? 0, Int64(fields[2]) ?? 0)
                            state.withLock { $0.load = load }
                        }
                    }
                }
                state.withLock { $0.exited = true }
                if !resumed { continuation.resume(returning: 0) }
            }
            thread.start()
        }
        guard port > 0 else { throw WorkerProcessError(message: "worker \(id) did not start") }
        portBox.withLock { $0 = port }
    }

    /// SIGKILL: no drain, no goodbye; returns once the child is gone.
    func kill() async {
        let pid = self.pid.withLock { $0 }
        if pid > 0 { _ = Glibc.kill(pid, SIGKILL) }
        await waitForExit()
    }

    /// Graceful stop: in-flight calls may finish within `gracePeriod`.
    func stop(gracePeriod: Duration) async {
        let ms = gracePeriod.components.seconds * 1000 + gracePeriod.components.attoseconds / 1_000_000_000_000_000
        input.withLock { handle in
            try? handle?.write(contentsOf: Data("stop \(ms)\n".utf8))
            try? handle?.close()
            handle = nil
        }
        await waitForExit()
    }

    private func waitForExit() async {
        // The reader thread sees EOF when the child's stdout closes, i.e. when it exits.
        while isAlive { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

struct WorkerProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
