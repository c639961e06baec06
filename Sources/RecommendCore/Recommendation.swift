/// One ranked result: an item id and its score.
public struct Recommendation: Hashable, Sendable, CustomStringConvertible {
    /// The item id.
    public var item: String
    /// The score (recommendations) or similarity (similar items); always > 0.
    public var score: Double

    /// Creates a result.
    ///
    /// - Parameters:
    ///   - item: The item id.
    ///   - score: The score.
    public init(item: String, score: Double) {
        self.item = item
        self.score = score
    }

    public var description: String {
        "\(self.item) \(self.score)"
    }
}
