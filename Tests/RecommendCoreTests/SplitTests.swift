import RecommendCore
import Testing

@Suite("Split hash and evaluation protocols")
struct SplitTests {
    @Test("splitmix64 and FNV-1a test vectors")
    func vectors() {
        #expect(SplitHash.splitmix64(0) == 0xE220_A839_7B1D_CDAF)
        #expect(SplitHash.fnv1a64("") == 0xCBF2_9CE4_8422_2325)
        #expect(SplitHash.fnv1a64("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(SplitHash.idValue("196") == 196)
        #expect(SplitHash.idValue("-1") == UInt64.max)
        #expect(SplitHash.idValue("kung_pao_chicken") == 0xABAE_35EE_DEC8_DC65)
        // h(42, 196, 242), computed independently in Python.
        #expect(SplitHash.hash(seed: 42, user: "196", item: "242") == 0x0884_39D2_22BA_E8DE)
    }

    // User 1: items 10 @200, 20 @200, 30 @100. User 2: items 10..50, no timestamps. User 3: one row.
    // h(42, 1, ·): 10 → 0xa8ba45f989cede8a, 20 → 0x9ec7c48b746007ea, 30 → 0xbc0da37e11b01051.
    // h(42, 2, ·): 10 → 0x88095b4b57a1e396, 20 → 0xb1bdde17cdcfeb03, 30 → 0x104b28d40f3eea5f,
    //              40 → 0xcfca0b5f67bf105d, 50 → 0x244379df79c317cc; order by h: 30, 50, 10, 20, 40.
    static let table = InteractionTable([
        Interaction(user: "1", item: "10", timestamp: 200), Interaction(user: "1", item: "20", timestamp: 200),
        Interaction(user: "1", item: "30", timestamp: 100),
        Interaction(user: "2", item: "10"), Interaction(user: "2", item: "20"), Interaction(user: "2", item: "30"),
        Interaction(user: "2", item: "40"), Interaction(user: "2", item: "50"),
        Interaction(user: "3", item: "10", timestamp: 5),
    ])

    @Test("Leave-last-one-out orders by (timestamp, h, item)")
    func leaveLastOneOut() {
        let split = EvaluationSplit(Self.table, protocol: .leaveLastOneOut)
        // User 1: 30 (t=100), then 20 and 10 tie at t=200; h(20) < h(10), so 10 is last (item order would say 20).
        // User 2: all t=0; by h the last is 40. User 3 has one row: not evaluated, row kept in train.
        #expect(split.heldOut == ["1": ["10"], "2": ["40"]])
        #expect(split.train.count == 9 - 2)
        #expect(split.train.interactions(ofUser: "3").count == 1)
    }

    @Test("80/20 holds out the first floor(n/5) rows by (h, item)")
    func holdout() {
        let split = EvaluationSplit(Self.table, protocol: .holdout8020)
        // User 2: floor(5/5) = 1 → 30 (smallest h). Users 1 and 3: floor(3/5) = floor(1/5) = 0.
        #expect(split.heldOut == ["2": ["30"]])
        #expect(split.train.count == 8)
    }

    @Test("Evaluation metrics on the tiny set")
    func metrics() throws {
        let loo = try Evaluation.evaluate(Self.table, manifest: Manifest(algorithm: .itemCF), protocol: .leaveLastOneOut)
        #expect(loo.protocolName == "leave-last-one-out")
        #expect(loo.metrics["users"] == 2)
        // Train: 1 → {20, 30}; 2 → {10, 20, 30, 50}; 3 → {10}. Every item co-occurs with every other through user 2,
        // so user 1's ranking covers 10 and 50 and user 2's covers no unseen train item (40 has no train row → miss).
        // Item 10 (users 2, 3) vs 50 (user 2) for user 1: 10·20 = 1 → 1/sqrt(2·2) = 0.5, 10·30 = 0.5 → 1.0;
        // 50·20 = 1/sqrt(1·2) = 0.7071, 50·30 = 0.7071 → 1.4142. So 50 ranks first, 10 second: HR = 1/2 (user 1 hit,
        // user 2 miss), NDCG = (1/log2(3)) / 2 = 0.31546487678572877.
        #expect(loo.metrics["hr@10"] == 0.5)
        #expect(abs((loo.metrics["ndcg@10"] ?? 0) - 0.31546487678572877) < 1e-15)
    }
}
