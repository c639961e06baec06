import RecommendCore

/// The hand-computed 4-user example (implicit feedback).
///
///     user 1: 10 20        item 10: users {1, 2}      ‖10‖² = 2
///     user 2: 10 20 30     item 20: users {1, 2, 3}   ‖20‖² = 3
///     user 3:    20 30     item 30: users {2, 3, 4}   ‖30‖² = 3
///     user 4:       30 40  item 40: users {4}         ‖40‖² = 1
enum Fixtures {
    static let fourUsers = """
        user_id\titem_id
        1\t10
        1\t20
        2\t10
        2\t20
        2\t30
        3\t20
        3\t30
        4\t30
        4\t40

        """

    static func fourUserTable() throws -> InteractionTable {
        try InteractionTable(parsing: fourUsers)
    }

    static func model(_ manifest: Manifest) throws -> Recommender {
        try Recommender(interactions: fourUserTable(), manifest: manifest)
    }

    /// The repository root, found from this file's path (Tests/RecommendCoreTests/Test Utilities/Fixtures.swift).
    static var repositoryRoot: String {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }
}

/// Compares a result list with expected (id, score) pairs: same ids in the same order, scores within 1e-12.
func matches(_ results: [Recommendation], _ expected: [(String, Double)]) -> Bool {
    guard results.count == expected.count else {
        return false
    }
    return zip(results, expected).allSatisfy { result, pair in
        result.item == pair.0 && abs(result.score - pair.1) <= 1e-12
    }
}
