import RecommendCore
import Testing

// User similarities of the 4-user example (see Fixtures.swift): ‖1‖² = 2, ‖2‖² = 3, ‖3‖² = 2, ‖4‖² = 2.
//   1·2 = |{10,20}| = 2 → 2 / sqrt(2·3) = 0.8164965809277261
//   1·3 = |{20}|    = 1 → 1 / sqrt(2·2) = 0.5
//   2·3 = |{20,30}| = 2 → 2 / sqrt(3·2) = 0.8164965809277261
//   2·4 = |{30}|    = 1 → 1 / sqrt(3·2) = 0.4082482904638631
//   3·4 = |{30}|    = 1 → 1 / sqrt(2·2) = 0.5
//   1·4 = 0
// Top-2: 1 → [2 0.8165, 3 0.5]; 2 → [1 0.8165, 3 0.8165] (exact tie, smaller id first; 4 is cut);
//        3 → [2 0.8165, 1 0.5] (1 and 4 tie at 0.5, 1 is the smaller id); 4 → [3 0.5, 2 0.4082].
@Suite("UserCF on the hand-computed example")
struct UserCFTests {
    let model: Recommender

    init() throws {
        self.model = try Fixtures.model(Manifest(algorithm: .userCF, neighbours: 2))
    }

    @Test("Scores sum sim(u, v) · r(v, i) over the user's neighbours")
    func userScores() throws {
        // User 1 (has 10, 20): neighbour 2 gives 30 0.8165, neighbour 3 gives 30 0.5 → 30 = 1.3164965809277263.
        #expect(matches(try model.recommend(user: "1", k: 10), [("30", 1.3164965809277263)]))
        // User 4 (has 30, 40): neighbour 3 (0.5) gives 20; neighbour 2 (0.4082) gives 10 and 20.
        //   20 = 0.5 + 0.4082482904638631 = 0.9082482904638631; 10 = 0.4082482904638631.
        #expect(matches(try model.recommend(user: "4", k: 10), [("20", 0.9082482904638631), ("10", 0.4082482904638631)]))
    }

    @Test("Ties at the K-th neighbour go to the smaller id")
    func neighbourTie() throws {
        // User 3's neighbours are 2 and 1 (1 beats 4 at 0.5). Had 4 been kept, item 40 would score.
        // Scores for 3 (has 20, 30): 10 from user 2 (0.8165) and user 1 (0.5) = 1.3164965809277263.
        #expect(matches(try model.recommend(user: "3", k: 10), [("10", 1.3164965809277263)]))
    }

    @Test("iif divides each item's term by ln(1 + users of that item)")
    func iifWeighting() throws {
        let model = try Fixtures.model(Manifest(algorithm: .userCF, neighbours: 2, weighting: .iif))
        // Users per item: 10 → 2, 20 → 3, 30 → 3, 40 → 1: weights 1/ln3, 1/ln4, 1/ln4, 1/ln2.
        //   1·2 = 1/ln3 + 1/ln4 = 1.631586747071319 → / sqrt(6) = 0.6660925002353613
        //   1·3 = 1/ln4 = 0.7213475204444817        → / 2       = 0.36067376022224085
        //   2·4 = 1/ln4                             → / sqrt(6) = 0.2944888920518062
        //   3·4 = 1/ln4                             → / 2       = 0.36067376022224085
        // User 1: 30 = 0.6660925002353613 + 0.36067376022224085 = 1.026766260457602.
        #expect(matches(try model.recommend(user: "1", k: 10), [("30", 1.026766260457602)]))
        // User 4: neighbours 3 (0.3607), 2 (0.2945): 20 = 0.36067376022224085 + 0.2944888920518062
        //   = 0.655162652274047; 10 = 0.2944888920518062.
        #expect(matches(try model.recommend(user: "4", k: 10), [("20", 0.655162652274047), ("10", 0.2944888920518062)]))
    }

    @Test("Seed items find the anonymous user's neighbours on demand")
    func seedItems() throws {
        // Seeds {10, 20} = user 1's profile, but the anonymous user is not user 1, so user 1 is a neighbour:
        //   anon·1 = 2 / sqrt(2·2) = 1; anon·2 = 2 / sqrt(2·3) = 0.8165; anon·3 = 1 / sqrt(2·2) = 0.5.
        // Top-2: [1 1.0, 2 0.8165]. User 1 adds only seen items; user 2 gives 30 0.8164965809277261.
        #expect(matches(try model.recommend(seedItems: ["10", "20"], k: 10), [("30", 0.8164965809277261)]))
    }

    @Test("similarItems computes item cosine on demand")
    func similarItems() throws {
        #expect(
            matches(
                try model.similarItems(item: "30", k: 10),
                [("20", 0.6666666666666666), ("40", 0.5773502691896258), ("10", 0.4082482904638631)]
            )
        )
    }
}
