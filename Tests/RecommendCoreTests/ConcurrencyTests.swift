import RecommendCore
import Testing

@Suite("Concurrent queries")
struct ConcurrencyTests {
    @Test("A Recommender answers from many tasks at once with the same results")
    func concurrentQueries() async throws {
        let model = try Fixtures.model(Manifest(algorithm: .userCF, neighbours: 2))
        let expected = try model.userIds.map { try model.recommend(user: $0, k: 10) }
        let results = try await withThrowingTaskGroup(of: (Int, [Recommendation]).self) { group in
            for round in 0..<200 {
                let u = round % model.userIds.count
                group.addTask { (u, try model.recommend(user: model.userIds[u], k: 10)) }
            }
            var collected: [(Int, [Recommendation])] = []
            for try await result in group {
                collected.append(result)
            }
            return collected
        }
        #expect(results.count == 200)
        #expect(results.allSatisfy { expected[$0.0] == $0.1 })
    }
}
