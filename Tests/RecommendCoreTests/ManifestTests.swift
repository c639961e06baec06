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

@Suite("Manifest from a registry map")
struct ManifestValuesTests {
    @Test("Reads the keys, spellings and defaults of the text form")
    func reads() throws {
        #expect(try Manifest(values: ["algorithm": "usercf"]) == Manifest(algorithm: .userCF))
        #expect(
            try Manifest(values: ["Algorithm": "ITEMCF", "k": "50", "weighting": "iuf", "normalise": "yes"])
                == Manifest(algorithm: .itemCF, neighbours: 50, weighting: .iuf, normalize: true)
        )
    }

    @Test(
        "Rejects with invalidArgument naming the key and what it allows",
        arguments: [
            (["algorithm": "itemcf", "neighbours": "-3"], "neighbours must be in 1...100000, got -3"),
            (["algorithm": "svd"], "unknown algorithm 'svd' (allowed: itemcf, usercf)"),
            (["algorithm": "itemcf", "format": "csv"], "unknown key 'format' (allowed: algorithm, neighbours"),
            (["algorithm": "itemcf", "weighting": "idf"], "key 'weighting'"),
            (["algorithm": "usercf", "weighting": "iuf"], "'iuf' applies to itemcf only"),
            (["algorithm": "itemcf", "k": "5", "neighbours": "6"], "both set 'neighbours'"),
            (["neighbours": "5"], "'algorithm' is required: itemcf or usercf"),
        ]
    )
    func rejects(values: [String: String], mention: String) {
        let error = #expect(throws: RecommendError.self) { try Manifest(values: values) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "")")
    }

    @Test("A partial (default) manifest may leave the algorithm out, but not hold a bad key or value")
    func partial() throws {
        try Manifest.check(partial: [:])
        try Manifest.check(partial: ["neighbours": "50", "weighting": "iif"])
        #expect(throws: RecommendError.self) { try Manifest.check(partial: ["neighbours": "0"]) }
        #expect(throws: RecommendError.self) { try Manifest.check(partial: ["similarity": "manhattan"]) }
        #expect(throws: RecommendError.self) { try Manifest.check(partial: ["algorithm": "itemcf", "weighting": "iif"]) }
    }
}
