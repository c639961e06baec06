import RecommendCore

/// One query against a model, printed as `item<TAB>score` lines.
enum QueryCommand {
    static func run(_ arguments: inout Arguments) throws {
        let data = try arguments.required("data")
        let manifest = try arguments.manifest()
        let k = try arguments.int("k", default: 10)
        let user = arguments.string("user")
        let seeds = arguments.string("seeds")
        let similar = arguments.string("similar")
        let model = try Recommender(interactions: loadTable(data), manifest: manifest)
        let results: [Recommendation]
        switch (user, seeds, similar) {
        case let (user?, nil, nil): results = try model.recommend(user: user, k: k)
        case let (nil, seeds?, nil): results = try model.recommend(seedItems: seeds.split(separator: ",").map(String.init), k: k)
        case let (nil, nil, item?): results = try model.similarItems(item: item, k: k)
        default: throw UsageError(message: "give exactly one of --user, --seeds, --similar")
        }
        for result in results {
            print("\(result.item)\t\(format(result.score))")
        }
    }
}
