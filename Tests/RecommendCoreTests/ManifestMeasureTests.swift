import RecommendCore
import Testing

@Suite("Manifest: similarity and attribute blend keys")
struct ManifestMeasureTests {
    @Test("Parses the similarity and blend keys and writes them back")
    func parse() throws {
        let manifest = try Manifest(
            parsing: """
                algorithm = usercf
                similarity = Pearson
                user_feature_weight = 0.2
                user_features = age/10, gender, occupation, zip_code[:1]
                """
        )
        let expected = Manifest(
            algorithm: .userCF, similarity: .pearson, userFeatureWeight: 0.2,
            userFeatures: [
                FeatureColumn("age", .bucket(width: 10)), FeatureColumn("gender"), FeatureColumn("occupation"),
                FeatureColumn("zip_code", .prefix(length: 1)),
            ]
        )
        #expect(manifest == expected)
        #expect(try Manifest(parsing: manifest.description) == manifest)
        #expect(manifest.description.contains("user_features = age/10, gender, occupation, zip_code[:1]"))
        // Defaults print as before the keys existed.
        #expect(!Manifest(algorithm: .itemCF).description.contains("similarity"))
    }

    @Test("Every similarity is accepted by name", arguments: Manifest.Similarity.allCases)
    func accepts(similarity: Manifest.Similarity) throws {
        let manifest = try Manifest(values: ["algorithm": "itemcf", "feedback": "explicit", "similarity": similarity.rawValue])
        #expect(manifest.similarity == similarity)
    }

    @Test(
        "Rejects with invalidArgument naming the key and what it allows",
        arguments: [
            (
                ["algorithm": "itemcf", "similarity": "manhattan"],
                "key 'similarity': unknown similarity 'manhattan' (allowed: cosine, pearson, adjusted_cosine, jaccard, euclidean)"
            ),
            (["algorithm": "usercf", "similarity": "pearson", "weighting": "iif"], "applies to similarity cosine only"),
            (["algorithm": "usercf", "similarity": "adjusted_cosine"], "needs feedback explicit"),
            (["algorithm": "usercf", "user_feature_weight": "1.5", "user_features": "gender"], "key 'user_feature_weight'"),
            (["algorithm": "usercf", "user_feature_weight": "abc"], "not a number in 0...1"),
            (["algorithm": "usercf", "user_feature_weight": "0.3"], "needs user_features"),
            (["algorithm": "itemcf", "user_feature_weight": "0.3", "user_features": "gender"], "apply to usercf only"),
            (["algorithm": "usercf", "item_features": "class"], "apply to itemcf only"),
            (["algorithm": "itemcf", "item_features": "class, class"], "named twice"),
            (["algorithm": "itemcf", "item_features": "year/0"], "not a positive number"),
            (["algorithm": "itemcf", "item_features": "title[:x]"], "name[:n]"),
            (["algorithm": "itemcf", "item_features": ""], "key 'item_features'"),
        ]
    )
    func rejects(values: [String: String], mention: String) {
        let error = #expect(throws: RecommendError.self) { try Manifest(values: values) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "")")
    }
}
