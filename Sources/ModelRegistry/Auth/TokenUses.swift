import Synchronization

/// When each token last authenticated a call, kept in memory and written to `tokens.last_used_at` in batches
/// (``ModelRegistry/persistTokenUses()``): a write per call would cost every inference call a SQLite transaction.
final class TokenUses: Sendable {
    private let pending = Mutex<[Int64: Int64]>([:])

    /// Notes a use of `tokenID` now (milliseconds since 1970).
    func record(_ tokenID: Int64, at milliseconds: Int64 = Timestamp.now()) {
        pending.withLock { $0[tokenID] = milliseconds }
    }

    /// The uses noted since the last call, emptied.
    func take() -> [Int64: Int64] {
        pending.withLock { pending in
            defer { pending = [:] }
            return pending
        }
    }
}
