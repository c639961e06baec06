import RecommendCore
import Testing

@Suite("Manifest")
struct ManifestTests {
    @Test("Parses key = value and key: value lines")
    func parse() throws {
        let manifest = try Manifest(
            parsing: """
                # a comment
                algorithm = itemcf
                neighbours: 50
                feedback = explicit
                weighting: iuf
                normalize = true
                data = interactions.tsv
                """
        )
        #expect(
            manifest
                == Manifest(
                    algorithm: .itemCF,
                    neighbours: 50,
                    feedback: .explicit,
                    weighting: .iuf,
                    normalize: true,
                    data: "interactions.tsv"
                )
        )
        #expect(try Manifest(parsing: manifest.description) == manifest)
    }

    @Test("Defaults: K 20, implicit, no weighting, no normalisation")
    func defaults() throws {
        #expect(try Manifest(parsing: "algorithm: usercf") == Manifest(algorithm: .userCF))
    }

    @Test(
        "Rejects bad values naming the line",
        arguments: [
            ("algorithm = svd", 1, "svd"),
            ("algorithm = itemcf\nneighbours = many", 2, "many"),
            ("algorithm = itemcf\ncolour = blue", 2, "colour"),
            ("algorithm = itemcf\nalgorithm = usercf", 2, "line 1"),
            ("algorithm itemcf", 1, "algorithm itemcf"),
            ("neighbours = 5", 1, "algorithm"),
        ]
    )
    func rejects(text: String, line: Int, mention: String) {
        let error = #expect(throws: RecommendError.self) { try Manifest(parsing: text) }
        #expect(error?.code == .malformedInput)
        #expect(error?.line == line)
        #expect(error?.message.contains(mention) == true)
    }

    @Test(
        "Validation rejects inconsistent combinations",
        arguments: [
            Manifest(algorithm: .itemCF, neighbours: 0),
            Manifest(algorithm: .userCF, weighting: .iuf),
            Manifest(algorithm: .itemCF, weighting: .iif),
            Manifest(algorithm: .userCF, normalize: true),
        ]
    )
    func validation(manifest: Manifest) {
        let error = #expect(throws: RecommendError.self) { try manifest.validate() }
        #expect(error?.code == .invalidArgument)
        #expect(throws: RecommendError.self) { try Recommender(interactions: Fixtures.fourUserTable(), manifest: manifest) }
    }
}
