import RecommendCore
import Testing

// Similarities of the 4-user example (see Fixtures.swift), cosine = dot / sqrt(‖a‖²·‖b‖²):
//   10·20 = |{1,2}| = 2   → 2 / sqrt(2·3) = 2 / 2.449489742783178 = 0.8164965809277261
//   10·30 = |{2}|   = 1   → 1 / sqrt(2·3) = 0.4082482904638631
//   20·30 = |{2,3}| = 2   → 2 / sqrt(3·3) = 2 / 3 = 0.6666666666666666
//   30·40 = |{4}|   = 1   → 1 / sqrt(3·1) = 0.5773502691896258
//   10·40 = 20·40 = 0     → not neighbours
// Top-2 rows: 10 → [20 0.8165, 30 0.4082]; 20 → [10 0.8165, 30 0.6667];
//             30 → [20 0.6667, 40 0.5774] (10 at 0.4082 is cut); 40 → [30 0.5774].
@Suite("ItemCF on the hand-computed example")
struct ItemCFTests {
    let model: Recommender

    init() throws {
        self.model = try Fixtures.model(Manifest(algorithm: .itemCF, neighbours: 2))
    }

    @Test("Neighbour rows are the top-2 by cosine")
    func neighbourRows() throws {
        #expect(matches(try model.similarItems(item: "10", k: 10), [("20", 0.8164965809277261), ("30", 0.4082482904638631)]))
        #expect(matches(try model.similarItems(item: "20", k: 10), [("10", 0.8164965809277261), ("30", 0.6666666666666666)]))
        #expect(matches(try model.similarItems(item: "30", k: 10), [("20", 0.6666666666666666), ("40", 0.5773502691896258)]))
        #expect(matches(try model.similarItems(item: "40", k: 10), [("30", 0.5773502691896258)]))
        #expect(matches(try model.similarItems(item: "30", k: 1), [("20", 0.6666666666666666)]))
    }

    @Test("User scores sum sim(j, i) · r(u, j) over the user's items")
    func userScores() throws {
        // User 1 has 10, 20. Item 30 gets sim(10,30) + sim(20,30) = 0.4082482904638631 + 0.6666666666666666
        // = 1.0749149571305296; item 40 is in neither row, so it scores 0 and is not returned.
        #expect(matches(try model.recommend(user: "1", k: 10), [("30", 1.0749149571305296)]))
        // User 3 has 20, 30: item 10 from row 20 (0.8165), item 40 from row 30 (0.5774).
        #expect(matches(try model.recommend(user: "3", k: 10), [("10", 0.8164965809277261), ("40", 0.5773502691896258)]))
        // User 4 has 30, 40: item 20 from row 30 (0.6667); 10 is not in row 30 after the top-2 cut.
        #expect(matches(try model.recommend(user: "4", k: 10), [("20", 0.6666666666666666)]))
    }

    @Test("excludeSeen false keeps the user's own items")
    func includeSeen() throws {
        // User 1 without exclusion: 10 gets sim(20,10) = 0.8165, 20 gets sim(10,20) = 0.8165, 30 gets 1.0749.
        // 10 and 20 tie exactly; the smaller id comes first.
        let results = try model.recommend(user: "1", k: 10, excludeSeen: false)
        #expect(matches(results, [("30", 1.0749149571305296), ("10", 0.8164965809277261), ("20", 0.8164965809277261)]))
    }

    @Test("Seed items score like a user with exactly those items")
    func seedItems() throws {
        // Seeds {30, 40} equal user 4's items.
        #expect(try model.recommend(seedItems: ["30", "40"], k: 10) == model.recommend(user: "4", k: 10))
        // Seed {10}: row 10 itself.
        #expect(matches(try model.recommend(seedItems: ["10"], k: 10), [("20", 0.8164965809277261), ("30", 0.4082482904638631)]))
        // Repeated seeds count once.
        #expect(try model.recommend(seedItems: ["10", "10"], k: 10) == model.recommend(seedItems: ["10"], k: 10))
    }

    @Test("iuf divides each user's term by ln(1 + items of that user)")
    func iufWeighting() throws {
        let model = try Fixtures.model(Manifest(algorithm: .itemCF, neighbours: 2, weighting: .iuf))
        // Items per user: 1 → 2, 2 → 3, 3 → 2, 4 → 2, so weights 1/ln3 = 0.9102392266268373 (users 1, 3, 4)
        // and 1/ln4 = 0.7213475204444817 (user 2). Norms stay unweighted.
        //   10·20 = 1/ln3 + 1/ln4 = 1.6315867470713190 → / sqrt(6) = 0.6660925002353613
        //   10·30 = 1/ln4                               → / sqrt(6) = 0.2944888920518062
        //   20·30 = 1/ln4 + 1/ln3                       → / 3       = 0.5438622490237730
        //   30·40 = 1/ln3                               → / sqrt(3) = 0.5255268625199613
        #expect(matches(try model.similarItems(item: "30", k: 10), [("20", 0.5438622490237730), ("40", 0.5255268625199613)]))
        // User 1: item 30 = 0.2944888920518062 + 0.5438622490237730 = 0.8383511410755792.
        #expect(matches(try model.recommend(user: "1", k: 10), [("30", 0.8383511410755792)]))
    }

    @Test("normalize divides each row by its maximum after the top-K cut")
    func normalize() throws {
        let model = try Fixtures.model(Manifest(algorithm: .itemCF, neighbours: 2, normalize: true))
        // Row 10: [20 1, 30 0.4082/0.8165 = 0.5]; row 20: [10 1, 30 (2/3)/(2/sqrt6) = sqrt6/3 = 0.8164965809277259];
        // row 30: [20 1, 40 (1/sqrt3)/(2/3) = sqrt3/2 = 0.8660254037844386].
        #expect(matches(try model.similarItems(item: "10", k: 10), [("20", 1), ("30", 0.5)]))
        #expect(matches(try model.similarItems(item: "30", k: 10), [("20", 1), ("40", 0.8660254037844386)]))
        // User 1: item 30 = 0.5 + 0.8164965809277259 = 1.3164965809277258.
        #expect(matches(try model.recommend(user: "1", k: 10), [("30", 1.3164965809277258)]))
    }

    @Test("k limits the list")
    func limit() throws {
        #expect(matches(try model.recommend(user: "3", k: 1), [("10", 0.8164965809277261)]))
    }
}
