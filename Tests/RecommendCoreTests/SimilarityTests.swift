import RecommendCore
import Testing

// The 4-user example (Fixtures.swift), implicit feedback: items as vectors over the n = 4 users,
//   10 = {1,2}, 20 = {1,2,3}, 30 = {2,3,4}, 40 = {4}; sums S = squared norms Q = 2, 3, 3, 1.
//   dots: 10·20 = 2, 10·30 = 1, 20·30 = 2, 30·40 = 1, 10·40 = 20·40 = 0.
@Suite("Similarity measures on hand-computed matrices")
struct SimilarityTests {
    static func itemModel(_ similarity: Manifest.Similarity, k: Int = 2) throws -> Recommender {
        try Fixtures.model(Manifest(algorithm: .itemCF, neighbours: k, similarity: similarity))
    }

    @Test("Pearson: (dot − S_a·S_b / n) / sqrt((Q_a − S_a²/n)(Q_b − S_b²/n)); only positive ones are kept")
    func pearsonItems() throws {
        let model = try Self.itemModel(.pearson)
        // Variances Q − S²/4: 10 → 1, 20 → 0.75, 30 → 0.75, 40 → 0.75.
        // 10·20: (2 − 2·3/4) / sqrt(1 · 0.75) = 0.5 / 0.8660254037844386 = 0.5773502691896258.
        // 30·40: (1 − 3·1/4) / sqrt(0.75 · 0.75) = 0.25 / 0.75 = 0.3333333333333333.
        // 10·30 = (1 − 1.5) / …, 20·30 = (2 − 2.25) / …, 10·40, 20·40: all negative.
        #expect(matches(try model.similarItems(item: "10", k: 5), [("20", 0.5773502691896258)]))
        #expect(matches(try model.similarItems(item: "30", k: 5), [("40", 0.3333333333333333)]))
        #expect(matches(try model.similarItems(item: "20", k: 5), [("10", 0.5773502691896258)]))
    }

    @Test("Jaccard: |A ∩ B| / |A ∪ B| of the user sets")
    func jaccardItems() throws {
        let model = try Self.itemModel(.jaccard)
        // 10·20 = 2 / 3, 10·30 = 1 / 4, 20·30 = 2 / 4, 30·40 = 1 / 3; K = 2 cuts 30's 10 (0.25).
        #expect(matches(try model.similarItems(item: "10", k: 5), [("20", 0.6666666666666666), ("30", 0.25)]))
        #expect(matches(try model.similarItems(item: "30", k: 5), [("20", 0.5), ("40", 0.3333333333333333)]))
    }

    @Test("Euclidean: 1 / (1 + d) over all users; pairs with no common user compete too")
    func euclideanItems() throws {
        let model = try Self.itemModel(.euclidean)
        // d² = size of the symmetric difference: 40·30 = |{2,3}| = 2 → 1 / (1 + √2) = 0.4142135623730951;
        // 40·10 = |{1,2,4}| = 3 → 1 / (1 + √3) = 0.36602540378443865 (no common user); 40·20 = 4 → 1/3.
        #expect(
            matches(try model.similarItems(item: "40", k: 5), [("30", 0.4142135623730951), ("10", 0.36602540378443865)])
        )
        // 10·20 = 1 → 0.5; 10·30 = 10·40 = 3 → 0.366…, the tie goes to the smaller id, 30.
        #expect(matches(try model.similarItems(item: "10", k: 5), [("20", 0.5), ("30", 0.36602540378443865)]))
    }

    @Test("Adjusted cosine subtracts each user's mean rating, then takes the cosine")
    func adjustedCosineItems() throws {
        // Ratings: user 1: a 5, b 3 (mean 4); user 2: a 4, b 2, c 5 (mean 11/3); user 3: b 4, c 1 (mean 2.5).
        // Centred, over users (1, 2, 3): a = (1, 1/3, 0), b = (−1, −5/3, 1.5), c = (0, 4/3, −1.5).
        // a·c = 4/9, ‖a‖² = 10/9, ‖c‖² = 145/36 → 0.21009029257555606; a·b = −14/9, b·c = −161/36 (dropped).
        let table = try InteractionTable(parsing: "user\titem\trating\n1\ta\t5\n1\tb\t3\n2\ta\t4\n2\tb\t2\n2\tc\t5\n3\tb\t4\n3\tc\t1\n")
        let model = try Recommender(
            interactions: table,
            manifest: Manifest(algorithm: .itemCF, neighbours: 5, feedback: .explicit, similarity: .adjustedCosine)
        )
        #expect(matches(try model.similarItems(item: "a", k: 5), [("c", 0.21009029257555606)]))
        #expect(try model.similarItems(item: "b", k: 5).isEmpty)
        // User 1 (a 5, b 3) scores c = 5 · sim(a, c) = 1.0504514628777804.
        #expect(matches(try model.recommend(user: "1", k: 5), [("c", 1.0504514628777804)]))
    }

    @Test("UserCF Pearson: a correlation of 0 is not a neighbour; seeds are correlated on demand")
    func pearsonUsers() throws {
        let model = try Fixtures.model(Manifest(algorithm: .userCF, neighbours: 2, similarity: .pearson))
        // Users over the n = 4 items: S = Q = 2, 3, 2, 2; variances 1, 0.75, 1, 1.
        // 1·2: (2 − 6/4) / sqrt(0.75) = 0.5773502691896258; 2·3 the same; 1·3: (1 − 4/4) = 0; 3·4: (1 − 1) = 0;
        // 2·4: (1 − 6/4) < 0; 1·4: (0 − 1) < 0. User 4 has no neighbour, so nothing to recommend.
        #expect(matches(try model.recommend(user: "1", k: 5), [("30", 0.5773502691896258)]))
        #expect(matches(try model.recommend(user: "3", k: 5), [("10", 0.5773502691896258)]))
        #expect(try model.recommend(user: "4", k: 5).isEmpty)
        // Seeds {10, 20}: S = Q = 2 → with user 1: (2 − 1) / 1 = 1, with user 2: 0.57735, with user 3: 0.
        // User 1 adds only seen items; user 2 adds 30.
        #expect(matches(try model.recommend(seedItems: ["10", "20"], k: 5), [("30", 0.5773502691896258)]))
    }

    @Test("UserCF Euclidean over all items")
    func euclideanUsers() throws {
        let model = try Fixtures.model(Manifest(algorithm: .userCF, neighbours: 2, similarity: .euclidean))
        // User 4 = {30, 40}: d² with 3 = |{20, 40}| = 2 → 0.4142135623730951, with 2 = 3 → 0.36602540378443865,
        // with 1 = 4 → 1/3 (cut). 20 = 0.4142… + 0.3660… = 0.7802389661575337; 10 = 0.36602540378443865.
        #expect(
            matches(try model.recommend(user: "4", k: 5), [("20", 0.7802389661575337), ("10", 0.36602540378443865)])
        )
    }

    @Test("The general build's cosine equals the pair-once build's")
    func cosineThroughBlendOfZero() throws {
        // A blend weight of 0 keeps the pair-once cosine build; weight 1e-300 takes the general build, whose
        // cosine must give the same lists (the attribute term is then below every score's last bit).
        let attributes = try AttributeTable(parsing: "user_id\tgender\n1\tF\n2\tM\n3\tF\n4\tM\n")
        let plain = try Fixtures.model(Manifest(algorithm: .userCF, neighbours: 2, weighting: .iif))
        let general = try Recommender(
            interactions: Fixtures.fourUserTable(),
            manifest: Manifest(
                algorithm: .userCF, neighbours: 2, weighting: .iif, userFeatureWeight: 1e-300,
                userFeatures: [FeatureColumn("gender")]
            ),
            userAttributes: attributes
        )
        for user in ["1", "2", "3", "4"] {
            #expect(try plain.recommend(user: user, k: 5) == general.recommend(user: user, k: 5))
        }
    }
}
