import ArgumentParser
import Foundation
import RecommendCore

/// `--manifest FILE`, or the manifest's keys one by one.
struct ManifestOptions: ParsableArguments {
    @Option(help: "A manifest file (then the options below are not used).") var manifest: String?
    @Option(help: "itemcf or usercf.") var algorithm = "itemcf"
    @Option(help: "Neighbours kept per item or user (K).") var neighbours: Int?
    @Option(help: "implicit or explicit.") var feedback: String?
    @Option(help: "none, iuf or iif.") var weighting: String?
    @Flag(help: "Normalise item-item similarities (itemcf).") var normalize = false
    @Option(help: "cosine, pearson, adjusted_cosine, jaccard or euclidean.") var similarity: String?
    @Option(help: "A user attribute file (ml-100k.user), for --user-features.") var userAttributes: String?
    @Option(help: "An item attribute file (ml-100k.item), for --item-features.") var itemAttributes: String?
    @Option(help: "usercf: user attribute columns, e.g. 'age/10, gender, occupation'.") var userFeatures: String?
    @Option(help: "usercf: the attribute weight of the blend, 0...1.") var userFeatureWeight: Double?
    @Option(help: "itemcf: item attribute columns, e.g. 'class, release_year/10'.") var itemFeatures: String?
    @Option(help: "itemcf: the attribute weight of the blend, 0...1.") var itemFeatureWeight: Double?

    /// The manifest from `--manifest FILE` or from the individual options.
    func parsed() throws -> Manifest {
        if let path = self.manifest {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ValidationError("cannot read manifest '\(path)': \(error)")
            }
            return try Manifest(parsing: text)
        }
        var lines = ["algorithm = \(self.algorithm)"]
        if let neighbours { lines.append("neighbours = \(neighbours)") }
        if let feedback { lines.append("feedback = \(feedback)") }
        if let weighting { lines.append("weighting = \(weighting)") }
        lines.append("normalize = \(self.normalize)")
        if let similarity { lines.append("similarity = \(similarity)") }
        if let userFeatures { lines.append("user_features = \(userFeatures)") }
        if let userFeatureWeight { lines.append("user_feature_weight = \(userFeatureWeight)") }
        if let itemFeatures { lines.append("item_features = \(itemFeatures)") }
        if let itemFeatureWeight { lines.append("item_feature_weight = \(itemFeatureWeight)") }
        return try Manifest(parsing: lines.joined(separator: "\n"))
    }

    /// The attribute files named by `--user-attributes` and `--item-attributes`.
    func attributes() throws -> (users: AttributeTable?, items: AttributeTable?) {
        (
            try userAttributes.map { try AttributeTable(contentsOfFile: $0) },
            try itemAttributes.map { try AttributeTable(contentsOfFile: $0) }
        )
    }
}

/// The shape of a synthetic data set (`bench --synthetic`, `generate`).
struct SyntheticOptions: ParsableArguments {
    @Option(help: "Users.") var users = 100_000
    @Option(help: "Distinct items.") var items = 20_000
    @Option(help: "Interactions in all.") var interactions = 10_000_000
    @Option(help: "Power-law exponent of item popularity.") var alpha = 0.8
    @Option(help: "Seed of the splitmix64 stream.") var seed: UInt64 = 42

    func validate() throws {
        guard users > 0, items > 0, interactions >= users, interactions / users <= items else {
            throw ValidationError("need users > 0, items > 0 and users ≤ interactions ≤ users · items")
        }
    }

    var spec: SyntheticSpec {
        SyntheticSpec(users: users, items: items, interactions: interactions, alpha: alpha, seed: seed)
    }
}

/// Wall-clock seconds of `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    let elapsed = ContinuousClock.now - start
    return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
}

func megabytes(_ bytes: Int) -> String {
    String(format: "%.1f MiB", Double(bytes) / 1_048_576)
}

func loadTable(_ path: String) throws -> InteractionTable {
    try InteractionTable(contentsOfFile: path)
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}
