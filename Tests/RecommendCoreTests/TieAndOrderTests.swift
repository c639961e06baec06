import RecommendCore
import Testing

@Suite("Ties and id order")
struct TieAndOrderTests {
    @Test("Integer ids compare numerically, others by bytes")
    func identifierOrder() {
        #expect(IdentifierOrder.precedes("9", "10"))
        #expect(!IdentifierOrder.precedes("10", "9"))
        #expect(IdentifierOrder.precedes("-3", "2"))
        #expect(IdentifierOrder.precedes("b10", "b9"))
        #expect(IdentifierOrder.precedes("7", "07") == false && IdentifierOrder.precedes("07", "7"))
        #expect(IdentifierOrder.precedes("Z", "a"))  // bytes: 'Z' = 0x5A < 'a' = 0x61
        // Mixed sets: integers first (see IdentifierOrder's documentation).
        #expect(IdentifierOrder.precedes("2", "1a"))
    }

    @Test("A tie at the K-th neighbour goes to the numerically smaller id")
    func numericTie() throws {
        // x has 5, 9; y has 5, 10: sim(5, 9) = sim(5, 10) = 1 / sqrt(2·1) = 0.7071067811865475.
        // With K = 1 item 5 keeps 9 (numerically smaller than 10, though "10" < "9" in bytes).
        let table = InteractionTable([
            Interaction(user: "x", item: "5"), Interaction(user: "x", item: "9"),
            Interaction(user: "y", item: "5"), Interaction(user: "y", item: "10"),
        ])
        let model = try Recommender(interactions: table, manifest: Manifest(algorithm: .itemCF, neighbours: 1))
        #expect(matches(try model.similarItems(item: "5", k: 5), [("9", 0.7071067811865475)]))
    }

    @Test("Score ties go to the smaller id, byte order for string ids")
    func stringTie() throws {
        let table = InteractionTable([
            Interaction(user: "x", item: "a"), Interaction(user: "x", item: "b9"),
            Interaction(user: "y", item: "a"), Interaction(user: "y", item: "b10"),
        ])
        let model = try Recommender(interactions: table, manifest: Manifest(algorithm: .itemCF, neighbours: 5))
        // Seed a: b9 and b10 both score 1/sqrt(2) = 0.7071067811865475; "b10" < "b9" in bytes.
        #expect(
            matches(try model.recommend(seedItems: ["a"], k: 5), [("b10", 0.7071067811865475), ("b9", 0.7071067811865475)])
        )
    }

    @Test("Explicit feedback uses ratings; the last duplicate row wins")
    func explicitDuplicates() throws {
        // u1 rates i1 5 then 2 (kept: 2), and i2 4. u2 rates i1 1, i2 3.
        // ‖i1‖² = 2² + 1² = 5, ‖i2‖² = 4² + 3² = 25, i1·i2 = 2·4 + 1·3 = 11 → 11 / sqrt(125) = 0.9838699100999074.
        let table = try InteractionTable(parsing: "u1,i1,5,1\nu1,i2,4,2\nu2,i1,1,3\nu2,i2,3,4\nu1,i1,2,5\n")
        #expect(table.count == 4 && table.duplicateRowCount == 1)
        let model = try Recommender(interactions: table, manifest: Manifest(algorithm: .itemCF, feedback: .explicit))
        #expect(matches(try model.similarItems(item: "i1", k: 5), [("i2", 0.9838699100999074)]))
        // Implicit: every pair is 1: 2 / sqrt(2·2) = 1.
        let implicit = try Recommender(interactions: table, manifest: Manifest(algorithm: .itemCF))
        #expect(matches(try implicit.similarItems(item: "i1", k: 5), [("i2", 1)]))
    }
}
