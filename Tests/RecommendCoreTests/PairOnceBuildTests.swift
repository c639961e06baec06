import Testing

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

@testable import RecommendCore

/// The pair-once neighbour build (each dot product computed once, offered to both rows) must give exactly the rows of
/// the full build (each row against every row): same neighbours, same order, bit-identical scores.
@Suite("Pair-once neighbour build")
struct PairOnceBuildTests {
    private static func expectIdentical(
        entities: SparseMatrix,
        features: SparseMatrix,
        divisors: [Double]?,
        k: Int,
        normalize: Bool
    ) {
        let full = NeighbourBuilder.buildFull(
            entities: entities, features: features, divisors: divisors, k: k, normalize: normalize)
        let once = NeighbourBuilder.buildSymmetric(
            entities: entities, features: features, divisors: divisors,
            unitFeatures: features.values.allSatisfy { $0 == 1 }, k: k, normalize: normalize)
        #expect(full.rowStart == once.rowStart)
        #expect(full.columns == once.columns)
        #expect(full.values.map(\.bitPattern) == once.values.map(\.bitPattern))
    }

    @Test("ML-100k: ItemCF and UserCF, implicit and explicit, with and without weighting")
    func movieLens() throws {
        let table = try InteractionTable(contentsOfFile: Fixtures.repositoryRoot + "/data/ml-100k.inter")
        for explicit in [false, true] {
            let ratings = SparseMatrix(
                rowCount: table.userIds.count,
                columnCount: table.itemIds.count,
                rowStart: table.userStart,
                columns: table.itemIndex,
                values: explicit ? table.rating : [Double](repeating: 1, count: table.count)
            )
            let itemRatings = ratings.transposed()
            let iuf = (0..<ratings.rowCount).map { log(1 + Double(ratings.row($0).count)) }
            let iif = (0..<itemRatings.rowCount).map { log(1 + Double(itemRatings.row($0).count)) }
            // Explicit values with divisors are not symmetric term by term; build() uses the full build for them.
            for divisors in explicit ? [nil] : [nil, iuf] {
                Self.expectIdentical(entities: itemRatings, features: ratings, divisors: divisors, k: 20, normalize: false)
                Self.expectIdentical(entities: itemRatings, features: ratings, divisors: divisors, k: 50, normalize: true)
            }
            for divisors in explicit ? [nil] : [nil, iif] {
                Self.expectIdentical(entities: ratings, features: itemRatings, divisors: divisors, k: 20, normalize: false)
            }
        }
    }

    @Test("Many exact ties at the K-th place: small random 0/1 matrices")
    func ties() {
        var state: UInt64 = 42
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for (rows, columns) in [(300, 12), (50, 40), (2, 3)] {
            var rowStart = [0]
            var indices: [Int32] = []
            for _ in 0..<rows {
                for c in 0..<columns where next() % 4 == 0 {
                    indices.append(Int32(c))
                }
                rowStart.append(indices.count)
            }
            let entities = SparseMatrix(
                rowCount: rows, columnCount: columns, rowStart: rowStart, columns: indices,
                values: [Double](repeating: 1, count: indices.count))
            for k in [1, 3, 10, 1000] {
                Self.expectIdentical(entities: entities, features: entities.transposed(), divisors: nil, k: k, normalize: false)
            }
        }
    }
}
