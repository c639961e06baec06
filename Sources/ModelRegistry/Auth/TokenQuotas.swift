import Synchronization

/// Per-token request quotas: a token bucket per token that has one, holding one second's worth of calls and
/// refilled at the token's rate. In memory and per process: a restart starts every bucket full, and each process that
/// enforces a quota (the control plane, every worker) keeps its own buckets.
///
/// ```swift
/// let quotas = TokenQuotas<Int64>()
/// if let wait = quotas.admit(token: 7, rate: 100) { /* over quota: retry after `wait` */ }
/// ```
public final class TokenQuotas<Key: Hashable & Sendable>: Sendable {
    struct Bucket {
        var available: Double
        var refilledAt: ContinuousClock.Instant

        /// Takes one call if there is one; otherwise how long until there is.
        mutating func take(rate: Double, now: ContinuousClock.Instant) -> Duration? {
            let elapsed = now - refilledAt
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            available = min(rate, available + seconds * rate)
            refilledAt = now
            guard available < 1 else {
                available -= 1
                return nil
            }
            return .nanoseconds(Int64(((1 - available) / rate * 1e9).rounded(.up)))
        }
    }

    private let buckets = Mutex<[Key: Bucket]>([:])

    /// Creates quotas with every bucket full.
    public init() {}

    /// Admits a call of `token` at `rate` calls per second: nil when it may go ahead, else how long to wait.
    public func admit(token: Key, rate: UInt32, now: ContinuousClock.Instant = .now) -> Duration? {
        let rate = Double(max(rate, 1))
        return buckets.withLock { buckets in
            buckets[token, default: Bucket(available: rate, refilledAt: now)].take(rate: rate, now: now)
        }
    }
}

extension ModelRegistry {
    /// Counts a call against its token's quota: `nil` when it may go ahead, else how long until the token may call
    /// again. Tokens without a quota are always admitted.
    public func admitRequest(of principal: Principal) -> Duration? {
        guard principal.requestsPerSecond > 0, let tokenID = principal.tokenID else { return nil }
        return tokenQuotas.admit(token: tokenID, rate: principal.requestsPerSecond)
    }
}
