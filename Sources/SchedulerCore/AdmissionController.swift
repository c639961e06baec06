internal import Synchronization

/// Overload protection for one replica: an adaptive concurrency limit, a bounded queue with priority classes,
/// and deadline-aware admission. Thread-safe: gRPC handlers call it concurrently.
///
/// The limit follows a gradient: after each call it moves towards `limit × (minimum latency / recent latency) +
/// √limit`, within [min, max], so it shrinks when latency rises above the best seen and grows while it does not.
/// A priority class may fill only its share of the limit and of the queue (batch 50 %, normal 80 %, critical
/// 100 % by default), so higher classes always find room; queued calls are served highest class first, FIFO
/// within a class. A call whose remaining deadline is shorter than the expected queue wait plus the service time
/// (latency EWMA) is rejected at once. Rejections allocate nothing.
///
/// Times are seconds on a monotonic clock the caller chooses (tests pass a fake one).
///
/// ```swift
/// let admission = AdmissionController()
/// let ticket = try await admission.acquire(priority: 1, deadline: now + 0.5, now: now)
/// defer { admission.release(ticket, latency: clock.now - start, now: clock.now) }
/// ```
public final class AdmissionController: Sendable {
    private struct Locked: Sendable {
        var core: AdmissionState
        var waiting: [UInt64: CheckedContinuation<AdmissionTicket, any Error>] = [:]
        var resolved: [UInt64: Result<AdmissionTicket, AdmissionError>] = [:]
    }

    private let state: Mutex<Locked>

    /// Creates a controller.
    public init(configuration: Configuration = .defaults) {
        self.state = Mutex(Locked(core: AdmissionState(config: configuration)))
    }

    /// The current concurrency limit.
    public var limit: Int { state.withLock { $0.core.effectiveLimit } }

    /// Decides at once whether a call runs now, waits in the queue, or is shed.
    ///
    /// - Parameters:
    ///   - priority: 0 = batch, 1 = normal, 2 = critical (values beyond are clamped).
    ///   - deadline: When the call's deadline expires, or `nil` for none.
    ///   - now: The current time.
    /// - Returns: `.admitted` (release the ticket when done), `.queued` (then ``wait(for:)``) or `.rejected`.
    public func admit(priority: Int, deadline: Double?, now: Double) -> AdmissionDecision {
        state.withLock { $0.core.admit(priority: priority, deadline: deadline, now: now) }
    }

    /// Waits until a queued call gets a slot.
    ///
    /// - Throws: ``AdmissionError`` with `deadlineExceeded` if it was shed while queued, or `cancelled` if the
    ///   task was cancelled first (its queue place is freed).
    public func wait(for handle: AdmissionWaitHandle) async throws -> AdmissionTicket {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<AdmissionTicket, any Error>) in
                let early: Result<AdmissionTicket, AdmissionError>? = state.withLock { locked in
                    if let result = locked.resolved.removeValue(forKey: handle.id) { return result }
                    locked.waiting[handle.id] = continuation
                    return nil
                }
                if let early { continuation.resume(with: early.mapError { $0 }) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<AdmissionTicket, any Error>? = state.withLock { locked in
                guard locked.core.cancel(handle) else { return nil }
                guard let waiting = locked.waiting.removeValue(forKey: handle.id) else {
                    locked.resolved[handle.id] = .failure(AdmissionError(code: .cancelled, retryAfter: 0))
                    return nil
                }
                return waiting
            }
            continuation?.resume(throwing: AdmissionError(code: .cancelled, retryAfter: 0))
        }
    }

    /// Admits a call, waiting in the queue if needed.
    ///
    /// - Throws: ``AdmissionError``: `queueFull` or `deadlineTooShort` at once, `deadlineExceeded` or `cancelled`
    ///   while queued.
    public func acquire(priority: Int, deadline: Double?, now: Double) async throws -> AdmissionTicket {
        switch admit(priority: priority, deadline: deadline, now: now) {
        case .admitted(let ticket): return ticket
        case .queued(let handle): return try await wait(for: handle)
        case .rejected(let code, let retryAfter): throw AdmissionError(code: code, retryAfter: retryAfter)
        }
    }

    /// Gives a slot back after the call finished, teaching the limit its latency; queued calls may start.
    ///
    /// - Parameters:
    ///   - latency: Seconds from admission to the end of the call.
    ///   - serviceTime: The part of it spent doing the work, without waiting (for example for an inference thread),
    ///     when known: its jitter is what the limit tolerates (see ``Configuration/jitterAllowance``). Without it
    ///     the latency's own jitter is used, which counts queueing as jitter.
    ///   - now: The current time.
    public func release(_ ticket: AdmissionTicket, latency: Double, serviceTime: Double? = nil, now: Double) {
        deliver { $0.release(ticket, latency: latency, serviceTime: serviceTime, now: now) }
    }

    /// Sheds queued calls whose deadline can no longer be met; call it periodically (for example every 10 ms).
    public func expire(now: Double) {
        deliver { $0.expire(now: now) }
    }

    /// A load snapshot for the worker's report; rates cover the time since the previous call.
    public func loadReport(now: Double) -> AdmissionLoad {
        state.withLock { $0.core.report(now: now) }
    }

    private func deliver(_ step: (inout AdmissionState) -> [AdmissionState.Resolution]) {
        let ready: [(CheckedContinuation<AdmissionTicket, any Error>, Result<AdmissionTicket, AdmissionError>)] =
            state.withLock { locked in
                var ready: [(CheckedContinuation<AdmissionTicket, any Error>, Result<AdmissionTicket, AdmissionError>)] = []
                for resolution in step(&locked.core) {
                    let (id, result): (UInt64, Result<AdmissionTicket, AdmissionError>) =
                        switch resolution {
                        case .granted(let handle, let ticket): (handle, .success(ticket))
                        case .rejected(let handle, let error): (handle, .failure(error))
                        }
                    if let continuation = locked.waiting.removeValue(forKey: id) {
                        ready.append((continuation, result))
                    } else {
                        locked.resolved[id] = result
                    }
                }
                return ready
            }
        for (continuation, result) in ready { continuation.resume(with: result.mapError { $0 }) }
    }
}
