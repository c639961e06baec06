/// Sheds calls at the transport, as soon as their request is complete: before a handler task exists, before any
/// request message is decoded.
///
/// The server asks ``gates(_:)`` once per registered method when it is created; only the methods it answers
/// `true` for ever reach ``admit(_:)``. For those, the server keeps the handler and the request's (framed, not
/// decoded) messages aside until the request ends (the client's END_STREAM), then calls `admit` synchronously on
/// the connection's I/O thread, so it must be cheap and must never block. A rejected call is answered right there
/// with a trailers-only response carrying the returned ``RPCError`` (status, message and its metadata as trailers),
/// its messages dropped: no task, no decoding (about a third of a cheap served call's CPU in the overload benchmark,
/// docs/scheduler.md). An admitted call's handler then
/// starts; when the call ends — with any status, cancelled, or its connection lost — the server calls
/// ``callEnded(_:outcome:)`` exactly once with the token, so the gate can count calls in flight from their request
/// to their end (time spent waiting for a thread included). A call that ends before its request does (deadline,
/// cancellation) never reaches the gate.
///
/// A gate may also queue a call (``CallGateDecision/queued(_:)``) and resume it later through the call's
/// ``GatedCall/waiter``: the call keeps its stream and its undecoded request, and costs nothing meanwhile. While the
/// gate says it is saturated (``saturation``), the server pushes back with HTTP/2 itself: it lowers each
/// connection's `SETTINGS_MAX_CONCURRENT_STREAMS` to its share and pauses reading from connections that hold it.
///
/// Why the end of the request and not its headers: a client may send its message well after its headers (ours
/// does when busy), and that time says nothing about the server's load, yet counted against a concurrency limit it
/// starves the server. Gate only unary methods (their request ends with their one message), never long-lived
/// streams or health checks: a gate is for short calls whose latency it can learn.
///
/// ```swift
/// final class OneAtATime: ServerCallGate {
///     let busy = Atomic<Bool>(false)
///     func gates(_ method: MethodDescriptor) -> Bool { method.service == "demo.Work" }
///     func admit(_ call: GatedCall) -> CallGateDecision<Void> {
///         busy.exchange(true, ordering: .acquiring)
///             ? .reject(RPCError(code: .resourceExhausted, message: "busy", metadata: ["retry-after-ms": "10"]))
///             : .admit(())
///     }
///     func callEnded(_ token: Void, outcome: GatedCallOutcome) { busy.store(false, ordering: .releasing) }
/// }
/// ```
public protocol ServerCallGate: Sendable {
    /// What an admitted call holds until it ends (for example a concurrency-limiter ticket). Keep it small (at
    /// most three words): the server stores it in an existential box, which then needs no allocation.
    associatedtype Token: Sendable

    /// Whether calls to `method` go through the gate; asked once per registered method when the server is created.
    func gates(_ method: MethodDescriptor) -> Bool

    /// Decides whether a call starts; runs on the I/O thread and must not block.
    func admit(_ call: GatedCall) -> CallGateDecision<Token>

    /// Called exactly once for every admitted call, when its status is known (or it was cancelled).
    func callEnded(_ token: Token, outcome: GatedCallOutcome)

    /// A call the gate queued (``CallGateDecision/queued(_:)``) ended before the gate resumed it (its deadline
    /// passed, the client cancelled, the connection closed): forget it. If the gate resumes it anyway (a race), the
    /// server hands the token straight back through ``callEnded(_:outcome:)``.
    func withdraw(_ id: CallGateQueueID)

    /// While the gate is saturated (it queues or sheds calls), how many gated calls it can hold at once, running and
    /// queued; `nil` when it is not. The server then lowers each connection's `SETTINGS_MAX_CONCURRENT_STREAMS` to
    /// its share of this and stops reading from a connection that holds its share, so that clients queue on their
    /// side at no cost to the server instead of sending calls to be shed. Read on the I/O thread: keep it cheap.
    var saturation: Int? { get }
}

extension ServerCallGate {
    /// A gate that never queues has nothing to withdraw.
    public func withdraw(_ id: CallGateQueueID) {}

    /// A gate that reports nothing is never saturated: no back-pressure.
    public var saturation: Int? { nil }
}

/// Identifies a call a gate queued, for ``ServerCallGate/withdraw(_:)``.
public struct CallGateQueueID: Hashable, Sendable {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }
}

/// How a gate gives a call it queued its turn, or its rejection, later and from any thread.
///
/// Call ``admit(_:)`` or ``reject(_:)`` exactly once for each queued call (and never for a withdrawn one).
public struct CallGateWaiter: Sendable {
    private let resume: @Sendable (Result<any Sendable, RPCError>) -> Void

    /// A waiter that passes the outcome to `resume` (the server hops to the call's I/O thread there).
    public init(_ resume: @escaping @Sendable (Result<any Sendable, RPCError>) -> Void) {
        self.resume = resume
    }

    /// The call starts; `token` comes back in ``ServerCallGate/callEnded(_:outcome:)``.
    public func admit<Token: Sendable>(_ token: Token) { resume(.success(token)) }

    /// The call ends with this status (`RESOURCE_EXHAUSTED` or `DEADLINE_EXCEEDED` for a call that waited too long).
    public func reject(_ error: RPCError) { resume(.failure(error)) }
}

/// What a ``ServerCallGate`` knows about a call when its request is complete (nothing of it decoded yet).
public struct GatedCall: Sendable {
    /// The called method.
    public var method: MethodDescriptor
    /// The request's custom metadata (for example a `priority` key).
    public var metadata: Metadata
    /// When the call must be finished by, from `grpc-timeout`; `nil` without one.
    public var deadline: ContinuousClock.Instant?
    /// When the request was complete (the start of the call's duration in ``GatedCallOutcome``).
    public var now: ContinuousClock.Instant
    /// How to resume the call if the gate queues it; `nil` when the caller cannot wait (the gate must decide now).
    public var waiter: CallGateWaiter?

    public init(
        method: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, now: ContinuousClock.Instant,
        waiter: CallGateWaiter? = nil
    ) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.now = now
        self.waiter = waiter
    }
}

/// The answer of ``ServerCallGate/admit(_:)``.
public enum CallGateDecision<Token: Sendable>: Sendable {
    /// The call starts; the token comes back in ``ServerCallGate/callEnded(_:outcome:)``.
    case admit(Token)
    /// The call ends at once with this status (use `RESOURCE_EXHAUSTED` and a `retry-after-ms` trailer for sheds).
    case reject(RPCError)
    /// The call waits (only when ``GatedCall/waiter`` is given): the gate resumes it later through the waiter, or the
    /// server withdraws it (``ServerCallGate/withdraw(_:)``) if it ends first.
    case queued(CallGateQueueID)
}

/// How an admitted call ended, for ``ServerCallGate/callEnded(_:outcome:)``.
public struct GatedCallOutcome: Sendable, Hashable {
    /// From the admission (``GatedCall/now``) to the call's status (or its cancellation).
    public var duration: Duration
    /// The call's status code; ``StatusCode/cancelled`` when the peer or the connection went away.
    public var code: StatusCode

    public init(duration: Duration, code: StatusCode) {
        self.duration = duration
        self.code = code
    }

    /// Whether the call ended with OK.
    public var succeeded: Bool { code == .ok }
}
