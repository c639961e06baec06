/// An evaluation protocol: how each user's rows are split into train and held-out rows.
public enum EvaluationProtocol: String, Hashable, Sendable, CaseIterable {
    /// Per user, order rows by (timestamp, h, item) and hold out the last one. Users with fewer than 2 rows keep
    /// every row in train and are not evaluated. Metrics: HR@N, NDCG@N, coverage@N.
    case leaveLastOneOut = "leave-last-one-out"
    /// Per user, order rows by (h, item) and hold out the first ⌊n/5⌋. Users with fewer than 5 rows hold out
    /// nothing and are not evaluated. Metrics: precision@N (hits / N), recall@N, NDCG@N (binary), coverage@N.
    case holdout8020 = "holdout-80-20"
}

/// A train table and, for each evaluated user, the held-out items.
///
/// `h` is ``SplitHash/hash(seed:user:item:)-(_,String,String)`` of the row's user and item; "item" in an ordering key
/// means ``IdentifierOrder``. Duplicate rows were collapsed by ``InteractionTable`` before the split (the kept row's
/// timestamp is used).
///
/// ```swift
/// let split = EvaluationSplit(table, protocol: .leaveLastOneOut)
/// split.heldOut["196"]   // ["1007"]-like: the user's last row
/// ```
public struct EvaluationSplit: Sendable {
    /// The rows that stay in training.
    public let train: InteractionTable
    /// Held-out item ids per evaluated user, in the protocol's order.
    public let heldOut: [String: [String]]

    /// Splits a table.
    ///
    /// - Parameters:
    ///   - table: All interactions.
    ///   - evaluationProtocol: Leave-last-one-out or 80/20.
    ///   - seed: The hash seed (42 by default).
    public init(_ table: InteractionTable, protocol evaluationProtocol: EvaluationProtocol, seed: UInt64 = SplitHash.defaultSeed) {
        let itemValues = table.itemIds.map(SplitHash.idValue)
        var isHeldOut = [Bool](repeating: false, count: table.count)
        var heldOut: [String: [String]] = [:]
        for u in 0..<table.userIds.count {
            let userValue = SplitHash.idValue(table.userIds[u])
            let rows = Array(table.userStart[u]..<table.userStart[u + 1])
            let hashes = rows.map { SplitHash.hash(seed: seed, user: userValue, item: itemValues[Int(table.itemIndex[$0])]) }
            // Rows are already in item order, so comparing positions compares items.
            let positions: [Int]
            let holdCount: Int
            switch evaluationProtocol {
            case .leaveLastOneOut:
                positions = rows.indices.sorted { a, b in
                    let ta = table.timestamp[rows[a]]
                    let tb = table.timestamp[rows[b]]
                    if ta != tb { return ta < tb }
                    if hashes[a] != hashes[b] { return hashes[a] < hashes[b] }
                    return a < b
                }
                holdCount = rows.count >= 2 ? 1 : 0
            case .holdout8020:
                positions = rows.indices.sorted { a, b in
                    hashes[a] != hashes[b] ? hashes[a] < hashes[b] : a < b
                }
                holdCount = rows.count / 5
            }
            guard holdCount > 0 else {
                continue
            }
            let held: ArraySlice<Int> =
                evaluationProtocol == .leaveLastOneOut ? positions.suffix(holdCount) : positions.prefix(holdCount)
            heldOut[table.userIds[u]] = held.map { table.itemIds[Int(table.itemIndex[rows[$0]])] }
            for position in held {
                isHeldOut[rows[position]] = true
            }
        }
        self.train = table.filtered { !isHeldOut[$0] }
        self.heldOut = heldOut
    }
}
