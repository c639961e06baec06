import RecommendCore
import Testing

@Suite("Errors name what was wrong")
struct ErrorTests {
    @Test("Unknown user and item are notFound with the id")
    func unknownIds() throws {
        let model = try Fixtures.model(Manifest(algorithm: .itemCF, neighbours: 2))
        let user = #expect(throws: RecommendError.self) { try model.recommend(user: "999", k: 10) }
        #expect(user?.code == .notFound && user?.message.contains("'999'") == true)
        let item = #expect(throws: RecommendError.self) { try model.similarItems(item: "pizza", k: 10) }
        #expect(item?.code == .notFound && item?.message.contains("'pizza'") == true)
        let seed = #expect(throws: RecommendError.self) { try model.recommend(seedItems: ["10", "nope"], k: 10) }
        #expect(seed?.code == .notFound && seed?.message.contains("'nope'") == true)
        let empty = #expect(throws: RecommendError.self) { try model.recommend(seedItems: [], k: 10) }
        #expect(empty?.code == .invalidArgument)
    }

    @Test("k outside 1...10000 is invalidArgument", arguments: [0, -1, 10_001])
    func badK(k: Int) throws {
        let model = try Fixtures.model(Manifest(algorithm: .userCF, neighbours: 2))
        let error = #expect(throws: RecommendError.self) { try model.recommend(user: "1", k: k) }
        #expect(error?.code == .invalidArgument && error?.message.contains("\(k)") == true)
        #expect(throws: RecommendError.self) { try model.similarItems(item: "10", k: k) }
        #expect(try model.recommend(user: "1", k: 10_000).count == 1)
    }

    @Test("A malformed row names its line number")
    func malformedLine() {
        let text = "user_id:token\titem_id:token\trating:float\n1\t10\t4\n\n2\t20\tfive\n"
        let error = #expect(throws: RecommendError.self) { try InteractionTable(parsing: text) }
        #expect(error?.code == .malformedInput)
        #expect(error?.line == 4)
        #expect(error?.message.hasPrefix("line 4:") == true)
        #expect(error?.message.contains("'five'") == true)

        let short = #expect(throws: RecommendError.self) { try InteractionTable(parsing: "1,10\n2\n") }
        #expect(short?.line == 2)
    }

    @Test("Explicit feedback without ratings names the first unrated line")
    func explicitWithoutRatings() throws {
        let table = try InteractionTable(parsing: "1\t10\t5\n1\t20\n")
        let error = #expect(throws: RecommendError.self) {
            try Recommender(interactions: table, manifest: Manifest(algorithm: .itemCF, feedback: .explicit))
        }
        #expect(error?.code == .invalidArgument && error?.message.contains("line 2") == true)
    }

    @Test("A missing file is an ioError")
    func missingFile() {
        let error = #expect(throws: RecommendError.self) { try InteractionTable(contentsOfFile: "/nonexistent/x.tsv") }
        #expect(error?.code == .ioError)
    }
}
