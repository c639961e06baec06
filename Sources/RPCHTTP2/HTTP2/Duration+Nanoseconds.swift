import NIOCore

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max` (a `grpc-timeout` may be hours).
    var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (total, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : total &+ attoseconds / 1_000_000_000
    }
}

extension TimeAmount {
    /// The NIO amount of a Swift duration (saturating).
    init(_ duration: Duration) {
        self = .nanoseconds(duration.saturatingNanoseconds)
    }
}
