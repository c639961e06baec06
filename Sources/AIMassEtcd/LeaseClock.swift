/// When a lease holder must renew its lease and until when it may still act as its holder: pure state, with time
/// (seconds on a monotonic clock) passed in.
///
/// etcd counts a lease's TTL from when a keep-alive *arrives*; this side counts from when the request that was
/// answered was *sent*, which is earlier, so the holder stops acting on the lease no later than etcd expires it and
/// another process can take over what it guarded.
public struct LeaseClock: Sendable, Equatable {
    /// The lease's time to live, in seconds.
    public let ttl: Double
    /// When the last answered keep-alive (or the grant) was sent.
    public private(set) var renewedAt: Double

    /// A lease granted by a request sent at `grantedAt`.
    public init(ttl: Double, grantedAt: Double) {
        self.ttl = ttl
        self.renewedAt = grantedAt
    }

    /// How often to keep the lease alive: a third of the TTL, so two keep-alives may fail before it expires.
    public var keepAliveInterval: Double { ttl / 3 }

    /// A keep-alive sent at `sentAt` was answered with the TTL restored.
    public mutating func renewed(sentAt: Double) {
        renewedAt = max(renewedAt, sentAt)
    }

    /// The moment after which etcd may have expired the lease.
    public var validUntil: Double { renewedAt + ttl }

    /// Whether the holder may still act on the lease at `now`.
    public func isValid(at now: Double) -> Bool { now < validUntil }
}
