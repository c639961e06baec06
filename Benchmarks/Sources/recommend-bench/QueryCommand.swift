import ArgumentParser
import RecommendCore

/// One query against a model, printed as `item<TAB>score` lines.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "One query against a model, printed as item<TAB>score lines.")

    @Option(help: "The interactions file.") var data: String
    @Option(help: "Results wanted.") var k = 10
    @Option(help: "Recommend for this user.") var user: String?
    @Option(help: "Recommend from these seed items (comma-separated).") var seeds: String?
    @Option(help: "Items similar to this one.") var similar: String?
    @OptionGroup var manifestOptions: ManifestOptions

    func run() throws {
        let manifest = try manifestOptions.parsed()
        let model = try Recommender(interactions: loadTable(data), manifest: manifest)
        let results: [Recommendation]
        switch (user, seeds, similar) {
        case let (user?, nil, nil): results = try model.recommend(user: user, k: k)
        case let (nil, seeds?, nil): results = try model.recommend(seedItems: seeds.split(separator: ",").map(String.init), k: k)
        case let (nil, nil, item?): results = try model.similarItems(item: item, k: k)
        default: throw ValidationError("give exactly one of --user, --seeds, --similar")
        }
        for result in results {
            print("\(result.item)\t\(format(result.score))")
        }
    }
}
