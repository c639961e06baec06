import RecommendCore
import Testing

// The 4-user example (Fixtures) with attributes; user 5 has attributes and no interactions.
// Cold start compares every non-title column, categorical: 1 {age=24, gender=F, occupation=writer},
// 2 {age=53, gender=M, occupation=other}, 3 {age=23, gender=F}, 4 {age=33, gender=M, occupation=writer}.
// User 5 {age=40, gender=M, occupation=writer}: cosine with 4 = 2/3, with 1 and 2 = 1/3, with 3 = 0, so
// 30 = 2/3 (4) + 1/3 (2) = 1, and 10 = 20 = 1/3 + 1/3 = 40 = 2/3 (ties to the smaller id).
@Suite("Cold start, popularity and titles")
struct ColdStartTests {
    static let users = FeatureBlendTests.users + "\n5\t40\tM\twriter\n"
    static let items = """
        item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq
        10\tStar Wars\t1977\tSci-Fi
        20\tHeat\tunknown\tCrime
        30\t\t1999\tDrama
        """

    static func model(_ manifest: Manifest = Manifest(algorithm: .itemCF)) throws -> Recommender {
        try Recommender(
            interactions: Fixtures.fourUserTable(), manifest: manifest,
            userAttributes: AttributeTable(parsing: Self.users), itemAttributes: AttributeTable(parsing: Self.items))
    }

    @Test("A known user is served from history, as recommend(user:) is")
    func history() throws {
        let model = try Self.model()
        let served = try model.serve(user: "1", k: 5)
        #expect(try served.path == .history && served.items == model.recommend(user: "1", k: 5))
    }

    @Test("A user with attributes and no history: attribute neighbours, by hand")
    func attributeNeighbours() throws {
        let served = try Self.model().serve(user: "5", k: 10)
        #expect(served.path == .attributeNeighbours)
        #expect(matches(served.items, [("30", 1), ("10", 2.0 / 3), ("20", 2.0 / 3), ("40", 2.0 / 3)]))
    }

    @Test("Attributes given with the request; UserCF compares its manifest's columns")
    func givenAttributes() throws {
        // {gender=F}: 3 = 1/sqrt(2), 1 = 1/sqrt(3): 20 = both, 30 = 3's, 10 = 1's.
        let served = try Self.model().serve(user: "newbie", attributes: ["gender": "F"], k: 10)
        #expect(served.path == .attributeNeighbours)
        let (a, b) = (1 / 2.0.squareRoot(), 1 / 3.0.squareRoot())
        #expect(matches(served.items, [("20", a + b), ("30", a), ("10", b)]))
        // UserCF with user_features = occupation: only user 1 and 4 share writer (cosine 1 each): 30 and 40 from 4,
        // 10 and 20 from 1, all 1 (ties to the smaller id).
        let userCF = try Self.model(Manifest(algorithm: .userCF, userFeatures: [FeatureColumn("occupation")]))
        let byOccupation = try userCF.serve(user: "x", attributes: ["occupation": "writer", "gender": "F"], k: 10)
        #expect(matches(byOccupation.items, [("10", 1), ("20", 1), ("30", 1), ("40", 1)]))
    }

    @Test("Nothing known: popularity by number of users, ties to the smaller id; unseen values share nothing")
    func popularity() throws {
        let model = try Self.model()
        let expected = [("20", 3.0), ("30", 3.0), ("10", 2.0), ("40", 1.0)]
        #expect(try model.serve(user: "nobody", k: 10).path == .popularity)
        #expect(matches(try model.serve(user: "nobody", k: 10).items, expected))
        #expect(matches(try model.serve(user: "x", attributes: ["gender": "X"], k: 2).items, Array(expected.prefix(2))))
        let plain = try Fixtures.model(Manifest(algorithm: .userCF))
        #expect(try plain.serve(user: "5", k: 1).path == .popularity)
    }

    @Test("Unknown seeds are left out; none known is popularity without the seeds")
    func seeds() throws {
        let model = try Self.model()
        let mixed = try model.serve(seedItems: ["10", "new-item"], k: 5)
        #expect(try mixed.path == .seedItems && mixed.items == model.recommend(seedItems: ["10"], k: 5))
        let none = try model.serve(seedItems: ["new-item"], k: 5)
        #expect(none.path == .popularity && none.items.map(\.item) == ["20", "30", "10", "40"])
        #expect(throws: RecommendError.self) { try model.serve(seedItems: [], k: 5) }
        #expect(throws: RecommendError.self) { try model.serve(user: "1", k: 0) }
    }

    @Test("Titles: the title column with a numeric year in parentheses; a title column is no feature")
    func titles() throws {
        let model = try Self.model()
        #expect(model.hasTitles)
        #expect(model.title(of: "10") == "Star Wars (1977)")
        #expect(model.title(of: "20") == "Heat")
        #expect(model.title(of: "30") == nil && model.title(of: "40") == nil && model.title(of: "nope") == nil)
        #expect(try !Fixtures.model(Manifest(algorithm: .itemCF)).hasTitles)
        let error = #expect(throws: RecommendError.self) {
            try Self.model(Manifest(algorithm: .itemCF, itemFeatureWeight: 0.1, itemFeatures: [FeatureColumn("movie_title")]))
        }
        #expect(error?.code == .invalidArgument && error?.message.contains("'movie_title'") == true)
        #expect(error?.message.contains("title") == true)
    }
}
