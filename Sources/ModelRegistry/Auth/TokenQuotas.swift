import Synchronization

/// Per-token request quotas: a token bucket per token that has one, holding one second's worth of calls and
/// refilled at the token's rate. In memory: a restart starts every bucket full.
final class TokenQuotas: Sendable {
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

    private let buckets = Mutex<[Int64: Bucket]>([:])

    /// Admits a call of `tokenID` at `rate` calls per second, or says how long to wait.
    func admit(tokenID: Int64, rate: UInt32, now: ContinuousClock.Instant = .now) -> Duration? {
        let rate = Double(max(rate, 1))
        return buckets.withLock { buckets in
            buckets[tokenID, default: Bucket(available: rate, refilledAt: now)].take(rate: rate, now: now)
        }
    }
}

extension ModelRegistry {
    /// Counts a call against its token's quota: `nil` when it may go ahead, else how long until the token may call
    /// again. Tokens without a quota are always admitted.
    public func admitRequest(of principal: Principal) -> Duration? {
        guard principal.requestsPerSecond > 0, let tokenID = principal.tokenID else { return nil }
        return tokenQuotas.admit(tokenID: tokenID, rate: principal.requestsPerSecond)
    }
}
