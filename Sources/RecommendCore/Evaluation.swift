#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Named metrics from one evaluation run, ready for a model registry.
public struct EvaluationReport: Hashable, Sendable {
    /// The protocol's name (``EvaluationProtocol/rawValue``).
    public var protocolName: String
    /// Metric name → value, for example `"hr@10"`, `"ndcg@10"`, `"precision@10"`, `"recall@10"`, `"coverage@10"`,
    /// and `"users"` (how many users were evaluated).
    public var metrics: [String: Double]

    /// Creates a report.
    ///
    /// - Parameters:
    ///   - protocolName: The protocol's name.
    ///   - metrics: Metric name → value.
    public init(protocolName: String, metrics: [String: Double]) {
        self.protocolName = protocolName
        self.metrics = metrics
    }
}

/// Offline evaluation of a manifest on an interactions table.
///
/// Each evaluated user's ranking covers every item that has a train row and that the user has not seen in train,
/// ordered by score (highest first, ties to the smaller id). Only items with score > 0 can be in the top N (the list
/// is ``Recommender/recommend(user:k:excludeSeen:)``'s); a held-out item without a train row is a miss.
///
/// - Leave-last-one-out: HR@N = mean of 1 when the held-out item is in the top N; NDCG@N = mean of 1 / log2(rank + 1).
/// - 80/20: precision@N = hits / N (always N), recall@N = hits / held-out count, NDCG@N with binary relevance
///   (DCG over the top N divided by the ideal DCG of min(N, held-out count) hits).
/// - Both: coverage@N = distinct items in any top-N list / items with a train row.
///
/// ```swift
/// let report = try Evaluation.evaluate(table, manifest: manifest, protocol: .leaveLastOneOut)
/// report.metrics["hr@10"]
/// ```
public enum Evaluation {
    /// Splits, trains on the train part, and scores every evaluated user.
    ///
    /// - Parameters:
    ///   - table: All interactions.
    ///   - manifest: The model to evaluate.
    ///   - evaluationProtocol: Leave-last-one-out or 80/20.
    ///   - cutoff: N, the list length (10 by default).
    ///   - seed: The split hash seed (42 by default).
    ///   - userAttributes: User attributes, for a manifest that blends them (UserCF).
    ///   - itemAttributes: Item attributes, for a manifest that blends them (ItemCF).
    /// - Returns: The report.
    /// - Throws: ``RecommendError`` when the manifest is invalid, `cutoff` is out of range, or the model cannot be
    ///   built (``Recommender/init(interactions:manifest:userAttributes:itemAttributes:)``).
    public static func evaluate(
        _ table: InteractionTable,
        manifest: Manifest,
        protocol evaluationProtocol: EvaluationProtocol,
        cutoff: Int = 10,
        seed: UInt64 = SplitHash.defaultSeed,
        userAttributes: AttributeTable? = nil,
        itemAttributes: AttributeTable? = nil
    ) throws(RecommendError) -> EvaluationReport {
        try Recommender.check(k: cutoff)
        let split = EvaluationSplit(table, protocol: evaluationProtocol, seed: seed)
        let model = try Recommender(
            interactions: split.train, manifest: manifest, userAttributes: userAttributes, itemAttributes: itemAttributes
        )
        var sums: [String: Double] =
            switch evaluationProtocol {
            case .leaveLastOneOut: ["hr@\(cutoff)": 0, "ndcg@\(cutoff)": 0]
            case .holdout8020: ["precision@\(cutoff)": 0, "recall@\(cutoff)": 0, "ndcg@\(cutoff)": 0]
            }
        var recommended = Set<Int32>()
        var users = 0
        for (u, user) in model.userIds.enumerated() {
            guard let held = split.heldOut[user] else {
                continue
            }
            users += 1
            let ranked = model.rank(userIndex: u, k: cutoff, excludeSeen: true)
            recommended.formUnion(ranked.map(\.index))
            let heldIndices = Set(held.compactMap { model.itemLookup[$0] })
            var dcg = 0.0
            var hits = 0
            for (position, item) in ranked.enumerated() where heldIndices.contains(item.index) {
                hits += 1
                dcg += 1 / log2(Double(position + 2))
            }
            let idealHits = min(cutoff, held.count)
            let idcg = (0..<idealHits).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
            switch evaluationProtocol {
            case .leaveLastOneOut:
                sums["hr@\(cutoff)", default: 0] += hits > 0 ? 1 : 0
                sums["ndcg@\(cutoff)", default: 0] += dcg
            case .holdout8020:
                sums["precision@\(cutoff)", default: 0] += Double(hits) / Double(cutoff)
                sums["recall@\(cutoff)", default: 0] += Double(hits) / Double(held.count)
                sums["ndcg@\(cutoff)", default: 0] += dcg / idcg
            }
        }
        var metrics = sums.mapValues { users > 0 ? $0 / Double(users) : 0 }
        metrics["coverage@\(cutoff)"] = Double(recommended.count) / Double(model.itemIds.count)
        metrics["users"] = Double(users)
        return EvaluationReport(protocolName: evaluationProtocol.rawValue, metrics: metrics)
    }
}
