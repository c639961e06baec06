extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max` (a `grpc-timeout` may be hours).
    public var saturatingNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (total, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : total &+ attoseconds / 1_000_000_000
    }
}
