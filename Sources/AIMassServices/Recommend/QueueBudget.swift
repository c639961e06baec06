/// How long a call over a worker's concurrency limit may wait for a slot before it is shed.
public struct QueueBudget: Sendable, Equatable {
    /// The longest wait (a call's deadline can only shorten it); zero: calls over the limit are shed at once.
    public var limit: Duration
    /// Whether a wait is also cut to what a typical call takes (once one has been measured): under sustained overload
    /// every admitted call then waits about that long at most, which bounds admitted latency at about twice the
    /// unloaded one (docs/scheduler.md). The default budget does this; a budget an operator sets is waited in full.
    public var capsAtTypicalCall: Bool

    public init(limit: Duration, capsAtTypicalCall: Bool) {
        self.limit = limit
        self.capsAtTypicalCall = capsAtTypicalCall
    }

    /// 5 ms, and no longer than a typical call.
    public static let `default` = QueueBudget(limit: .milliseconds(5), capsAtTypicalCall: true)

    /// Exactly `limit`, however long a typical call takes (`aimass serve --queue-budget-ms`).
    public static func exactly(_ limit: Duration) -> QueueBudget { QueueBudget(limit: limit, capsAtTypicalCall: false) }
}
