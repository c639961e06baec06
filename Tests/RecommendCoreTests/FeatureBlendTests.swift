import RecommendCore
import Testing

// User attributes of the 4-user example, encoded with "age/10, gender":
//   1 {age#2, gender=F}, 2 {age#5, gender=M}, 3 {age#2, gender=F}, 4 {age#3, gender=M}
// Attribute cosine: 1·3 = 2 / sqrt(2·2) = 1, 2·4 = 1 / sqrt(2·2) = 0.5, every other pair 0.
// Behaviour cosine (UserCFTests): 1·2 = 2·3 = 0.8164965809277261, 1·3 = 3·4 = 0.5, 2·4 = 0.4082482904638631, 1·4 = 0.
// Blend w = 0.5: 1·2 = 0.4082482904638631, 1·3 = 0.25 + 0.5 = 0.75, 2·4 = 0.2041241452319315 + 0.25 =
// 0.45412414523193156, 3·4 = 0.25, 1·4 = 0 (dropped).
@Suite("Attribute blend")
struct FeatureBlendTests {
    static let users = """
        user_id:token\tage:token\tgender:token\toccupation:token
        1\t24\tF\twriter
        2\t53\tM\tother
        3\t23\tF\t
        4\t33\tM\twriter
        """

    static func blended(weight: Double = 0.5) throws -> Recommender {
        try Recommender(
            interactions: Fixtures.fourUserTable(),
            manifest: Manifest(
                algorithm: .userCF, neighbours: 2, userFeatureWeight: weight,
                userFeatures: [FeatureColumn("age", .bucket(width: 10)), FeatureColumn("gender")]
            ),
            userAttributes: AttributeTable(parsing: Self.users)
        )
    }

    @Test("UserCF blends (1 − w) · behaviour + w · attribute cosine")
    func userBlend() throws {
        let model = try Self.blended()
        // User 4 (30, 40): neighbours 2 (0.4541) and 3 (0.25): 20 = 0.7041241452319316, 10 = 0.45412414523193156.
        #expect(matches(try model.recommend(user: "4", k: 5), [("20", 0.7041241452319316), ("10", 0.45412414523193156)]))
        // User 1 (10, 20): neighbours 3 (0.75) and 2 (0.4082): 30 = 1.1582482904638631.
        #expect(matches(try model.recommend(user: "1", k: 5), [("30", 1.1582482904638631)]))
        // Seeds have no attributes: (1 − w) · cosine, top 2 of anon·1 = 1, anon·2 = 0.8165 → 30 = 0.40824829046386307.
        #expect(matches(try model.recommend(seedItems: ["10", "20"], k: 5), [("30", 0.40824829046386307)]))
    }

    @Test("Weight 1 ranks by attributes alone")
    func attributesOnly() throws {
        let model = try Self.blended(weight: 1)
        // Neighbours: 1 → 3 (1), 2 → 4 (0.5), 3 → 1 (1), 4 → 2 (0.5). User 3 (20, 30) gets 10 from user 1.
        #expect(matches(try model.recommend(user: "3", k: 5), [("10", 1)]))
        #expect(matches(try model.recommend(user: "2", k: 5), [("40", 0.5)]))
    }

    @Test("ItemCF blends item attributes: genres (token_seq) one-hot each, release year by decade")
    func itemBlend() throws {
        let items = try AttributeTable(
            parsing: "item_id:token\tyear:token\tclass:token_seq\n10\t1995\tComedy Drama\n20\tunknown\tAction\n30\t1994\tDrama\n40\t1999\tComedy\n"
        )
        // Features: 10 {year#199, Comedy, Drama}, 20 {year=unknown, Action} (not a number: a category of its own),
        // 30 {year#199, Drama}, 40 {year#199, Comedy}.
        // Attribute cosine: 10·30 = 2 / sqrt(3·2) = 0.8164965809277261 = 10·40, 30·40 = 1 / 2, 20·x = 0.
        // Behaviour cosine: 10·20 = 2/sqrt(6) = 0.8164965809277261, 10·30 = 1/sqrt(6) = 0.4082482904638631,
        // 20·30 = 2/3, 30·40 = 1/sqrt(3) = 0.5773502691896258, 10·40 = 20·40 = 0.
        // w = 0.25: 10·20 = 0.6123724356957946, 10·30 = 0.3061862178478973 + 0.2041241452319315 = 0.5103103630798288,
        // 10·40 = 0.2041241452319315.
        let model = try Recommender(
            interactions: Fixtures.fourUserTable(),
            manifest: Manifest(
                algorithm: .itemCF, neighbours: 3, itemFeatureWeight: 0.25,
                itemFeatures: [FeatureColumn("year", .bucket(width: 10)), FeatureColumn("class")]
            ),
            itemAttributes: items
        )
        #expect(
            matches(
                try model.similarItems(item: "10", k: 5),
                [("20", 0.6123724356957946), ("30", 0.5103103630798288), ("40", 0.2041241452319315)]
            )
        )
    }

    @Test(
        "Build errors name what is missing",
        arguments: [
            ("user_features = gender\nuser_feature_weight = 0.3", nil, "needs user attributes"),
            ("user_features = height\nuser_feature_weight = 0.3", Self.users, "no column 'height'"),
        ]
    )
    func buildErrors(manifest: String, attributes: String?, mention: String) throws {
        let parsed = try Manifest(parsing: "algorithm = usercf\n" + manifest)
        let table = try attributes.map { try AttributeTable(parsing: $0) }
        let error = #expect(throws: RecommendError.self) {
            try Recommender(interactions: Fixtures.fourUserTable(), manifest: parsed, userAttributes: table)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "")")
    }
}

@Suite("Attribute files and sectioned artifacts")
struct AttributeFileTests {
    @Test("An attribute file: header types, short rows, token sequences")
    func parse() throws {
        let table = try AttributeTable(parsing: "# users\nuser_id:token\tage:float\ttags:token_seq\n1\t24\ta b\n2\t30\n")
        #expect(table.idColumn.name == "user_id")
        #expect(table.columns.map(\.type) == ["float", "token_seq"])
        #expect(table.values(of: "1") == ["24", "a b"])
        #expect(table.values(of: "2") == ["30", ""])
        #expect(table.values(of: "3") == nil)
    }

    @Test(
        "Malformed attribute files name the line",
        arguments: [
            ("id\tage\n1\t2\t3\n", 2, "3 fields"),
            ("id\tage\n1\t2\n1\t3\n", 3, "repeats the row on line 2"),
            ("id\tage\n\t3\n", 2, "empty id"),
            ("", 1, "no header"),
        ]
    )
    func malformed(text: String, line: Int, mention: String) {
        let error = #expect(throws: RecommendError.self) { try AttributeTable(parsing: text) }
        #expect(error?.code == .malformedInput)
        #expect(error?.line == line)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "")")
    }

    @Test("A sectioned artifact carries interactions, users and items; a plain file is all interactions")
    func sections() throws {
        let text = """
            #%section interactions
            user\titem
            1\t10
            2\t10
            #%section users
            user_id\tgender
            1\tF
            #%section items
            item_id\tclass:token_seq
            10\tDrama Comedy
            """
        let inputs = try ModelInputs(parsing: text)
        #expect(inputs.interactions.count == 2)
        #expect(inputs.userAttributes?.values(of: "1") == ["F"])
        #expect(inputs.itemAttributes?.values(of: "10") == ["Drama Comedy"])
        let plain = try ModelInputs(parsing: "user\titem\n1\t10\n")
        #expect(plain.interactions.count == 1 && plain.userAttributes == nil && plain.itemAttributes == nil)
    }

    @Test("Sectioned artifacts report the artifact's line numbers and reject unknown or repeated sections")
    func sectionErrors() {
        let badRow = #expect(throws: RecommendError.self) {
            try ModelInputs(parsing: "#%section users\nid\tg\n1\tF\n#%section interactions\nuser\titem\n1\n")
        }
        #expect(badRow?.line == 6)
        let unknown = #expect(throws: RecommendError.self) { try ModelInputs(parsing: "#%section ratings\n1\t2\n") }
        #expect(unknown?.message.contains("unknown section 'ratings'") == true)
        let repeated = #expect(throws: RecommendError.self) {
            try ModelInputs(parsing: "#%section users\nid\tg\n#%section users\n")
        }
        #expect(repeated?.line == 3)
    }
}
