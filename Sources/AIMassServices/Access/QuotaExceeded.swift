import RPCCore

extension RPCError {
    /// `RESOURCE_EXHAUSTED` for a token over its request quota, with the `retry-after-ms` trailer a client waits
    /// before calling again (at least 1 ms). The same answer on the control plane and on every worker.
    public static func quotaExceeded(tokenID: Int64, requestsPerSecond: UInt32, retryAfter wait: Duration) -> RPCError {
        let milliseconds = max(1, wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
        return RPCError(
            code: .resourceExhausted,
            message: "token \(tokenID) is over its quota of \(requestsPerSecond) calls per second",
            metadata: ["retry-after-ms": .string(String(milliseconds))])
    }
}
