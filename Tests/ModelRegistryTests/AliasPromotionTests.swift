import Testing

@testable import ModelRegistry

@Suite("Earned promotion and A/B splits")
struct AliasPromotionTests {
    @Test("An alias moves to a challenger only when its metric beats the champion's by the margin")
    func promotion() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let alice = try fixture.user("alice")
        _ = try registry.createModel(Model(name: "m"), by: alice)
        for seed in 1...3 { try fixture.upload(artifact(100, seed: UInt64(seed)), to: "m", by: alice) }
        let metric = "holdout.precision@10"
        _ = try registry.setVersionMetrics(model: "m", version: 1, metrics: [metric: 0.30], by: alice)
        _ = try registry.setVersionMetrics(model: "m", version: 2, metrics: [metric: 0.31], by: alice)
        _ = try registry.setVersionMetrics(model: "m", version: 3, metrics: [metric: 0.302], by: alice)
        let rule = ModelRegistry.Promotion(metric: metric, margin: 0.005)

        // No champion yet: the first promotion moves and says so.
        let first = try registry.setAlias(model: "m", alias: "production", version: 1, promotion: rule, by: alice)
        #expect(first.toVersion == 1 && first.reason.contains("no champion"))

        // 0.302 - 0.30 < 0.005: refused with both figures, nothing moved or recorded.
        let refused = #expect(throws: RegistryError.self) {
            try registry.setAlias(model: "m", alias: "production", version: 3, promotion: rule, by: alice)
        }
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message.contains("0.302") == true && refused?.message.contains("0.3,") == true)
        #expect(try registry.getVersion(model: "m", "production", by: alice).number == 1)

        // 0.31 - 0.30 >= 0.005: moved, the comparison is the reason (after the caller's).
        let moved = try registry.setAlias(
            model: "m", alias: "production", version: 2, reason: "weekly", promotion: rule, by: alice)
        #expect(moved.fromVersion == 1 && moved.toVersion == 2)
        #expect(moved.reason.hasPrefix("weekly; promoted: \(metric) of challenger version 2 = 0.31"))
        #expect(try registry.aliasHistory(model: "m", alias: "production", by: alice).last?.reason == moved.reason)

        // A version without the metric cannot earn anything; a negative margin is a bad argument.
        _ = try fixture.upload(artifact(100, seed: 4), to: "m", by: alice)
        let missing = #expect(throws: RegistryError.self) {
            try registry.setAlias(model: "m", alias: "production", version: 4, promotion: rule, by: alice)
        }
        #expect(missing?.code == .failedPrecondition && missing?.message.contains("no stored metric") == true)
        let negative = #expect(throws: RegistryError.self) {
            try registry.setAlias(
                model: "m", alias: "production", version: 3, promotion: .init(metric: metric, margin: -1), by: alice)
        }
        #expect(negative?.code == .invalidArgument)
    }

    @Test("A split sends a sticky share of users to the challenger; moving the alias ends it")
    func split() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let alice = try fixture.user("alice")
        let reader = try fixture.user("reader")
        _ = try registry.createModel(Model(name: "m"), by: alice)
        try registry.setPermission(model: "m", grantee: .user("reader"), role: .reader, by: alice)
        for seed in 1...3 { try fixture.upload(artifact(100, seed: UInt64(seed)), to: "m", by: alice) }
        try registry.setAlias(model: "m", alias: "production", version: 1, by: alice)
        #expect(try registry.aliasSplit(model: "m", alias: "production", by: reader) == nil)

        let split = try registry.setAliasSplit(model: "m", alias: "production", challenger: 2, percent: 30, by: alice)
        #expect(split == AliasSplit(alias: "production", version: 1, challengerVersion: 2, percent: 30))
        #expect(try registry.aliasSplit(model: "m", alias: "production", by: reader) == split)
        #expect(try registry.aliasSplits(model: "m", by: reader) == [split].compactMap { $0 })
        let served = (0..<2000).map { split?.version(model: "m", user: "user-\($0)") ?? 0 }
        let share = Double(served.filter { $0 == 2 }.count) / Double(served.count)
        #expect(Set(served) == [1, 2] && (0.25...0.35).contains(share))
        #expect((0..<100).allSatisfy { split?.version(model: "m", user: "user-\($0)") == served[$0] })

        #expect(throws: RegistryError.self) {
            try registry.setAliasSplit(model: "m", alias: "production", challenger: 1, percent: 30, by: alice)
        }
        #expect(throws: RegistryError.self) {
            try registry.setAliasSplit(model: "m", alias: "production", challenger: 2, percent: 101, by: alice)
        }
        #expect(throws: RegistryError.self) {
            try registry.setAliasSplit(model: "m", alias: "staging", challenger: 2, percent: 10, by: alice)
        }
        #expect(throws: RegistryError.self) {
            try registry.setAliasSplit(model: "m", alias: "production", challenger: 2, percent: 10, by: reader)
        }

        // What workers get pushed, and what a call or an event naming the alias is served / attributed by.
        let pushed = try registry.accessSnapshot().models.first { $0.name == "m" }
        #expect(pushed?.splits == [split].compactMap { $0 })
        #expect(try (0..<200).allSatisfy {
            try registry.servingVersion(model: "m", alias: "production", user: "user-\($0)", by: reader) == served[$0]
        })
        #expect(try registry.servingVersion(model: "m", alias: "latest", user: "user-1", by: reader) == 3)

        try registry.setAlias(model: "m", alias: "production", version: 3, by: alice)
        #expect(try registry.aliasSplit(model: "m", alias: "production", by: reader) == nil)
        #expect(try registry.accessSnapshot().models.first { $0.name == "m" }?.splits.isEmpty == true)
        #expect(try registry.servingVersion(model: "m", alias: "production", user: "user-1", by: reader) == 3)
        #expect(throws: RegistryError.self) {
            try registry.servingVersion(model: "m", alias: "staging", user: "user-1", by: reader)
        }
        try registry.setAliasSplit(model: "m", alias: "production", challenger: 2, percent: 50, by: alice)
        #expect(try registry.setAliasSplit(model: "m", alias: "production", challenger: 2, percent: 0, by: alice) == nil)
        #expect(try registry.aliasSplits(model: "m", by: reader).isEmpty)
    }
}
