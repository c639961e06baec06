/// Why a call was not admitted, as an extensible set of codes; every code maps to `RESOURCE_EXHAUSTED` except
/// `cancelled` (`CANCELLED`) and `deadlineExceeded` (`DEADLINE_EXCEEDED`).
public struct AdmissionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The code: a struct over a private enum so that codes can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: UInt8, Hashable, Sendable {
            case queueFull, deadlineTooShort, deadlineExceeded, cancelled
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The queue (or this priority class's share of it) is full.
        public static let queueFull = Code(.queueFull)
        /// The remaining deadline is shorter than the expected queue wait plus service time.
        public static let deadlineTooShort = Code(.deadlineTooShort)
        /// The deadline passed (or became unreachable) while the call was queued.
        public static let deadlineExceeded = Code(.deadlineExceeded)
        /// The waiting task was cancelled.
        public static let cancelled = Code(.cancelled)

        public var description: String {
            switch wrapped {
            case .queueFull: "overloaded: queue full"
            case .deadlineTooShort: "overloaded: deadline shorter than the expected wait and service time"
            case .deadlineExceeded: "deadline exceeded while queued"
            case .cancelled: "cancelled while queued"
            }
        }
    }

    /// The code.
    public var code: Code
    /// Seconds after which a retry has a fair chance (a hint for the `retry-after` trailer); 0 when irrelevant.
    public var retryAfter: Double

    /// Creates an error.
    public init(code: Code, retryAfter: Double) {
        self.code = code
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code) (retry after \(retryAfter) s)" }
}

/// Proof that a call holds one concurrency slot of a replica; give it back with
/// ``AdmissionController/release(_:latency:now:)``.
public struct AdmissionTicket: Hashable, Sendable {
    /// Unique per controller.
    public let id: UInt64
    /// The call's priority class.
    public let priority: Int
}

/// A place in the queue; wait for it with ``AdmissionController/wait(for:)``.
public struct AdmissionWaitHandle: Hashable, Sendable {
    /// Unique per controller.
    public let id: UInt64
    /// The call's priority class.
    public let priority: Int
}

/// The answer to ``AdmissionController/admit(priority:deadline:now:)``.
public enum AdmissionDecision: Hashable, Sendable {
    /// Run the call now, then release the ticket.
    case admitted(AdmissionTicket)
    /// The call waits in the queue: await ``AdmissionController/wait(for:)``.
    case queued(AdmissionWaitHandle)
    /// Shed at once (`RESOURCE_EXHAUSTED`, with `retryAfter` seconds as a hint).
    case rejected(AdmissionError.Code, retryAfter: Double)
}

/// A replica's load as its admission control measures it (the worker turns it into a ``Load`` for its report).
public struct AdmissionLoad: Hashable, Sendable {
    /// Calls being executed now.
    public var inFlight: Int
    /// Calls waiting for a slot now.
    public var queueDepth: Int
    /// Calls completed per second since the previous report.
    public var servedPerSecond: Double
    /// Calls rejected per second since the previous report.
    public var rejectedPerSecond: Double
    /// EWMA of the call latency, in seconds (0 before the first call).
    public var latencyEWMA: Double
    /// The current adaptive concurrency limit.
    public var limit: Int
    /// `inFlight / limit`, at most 1.
    public var utilisation: Double
}
