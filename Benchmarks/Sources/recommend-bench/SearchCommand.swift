import ArgumentParser
import Foundation
import RecommendCore

/// An offline grid search on the 80/20 holdout: every combination of the listed algorithms, feedbacks, similarities,
/// K, weightings and attribute weights, each trained on the same split; rows print as they finish, then the best
/// `--show` as a Markdown table sorted by P@10.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Grid search on the 80/20 holdout (P@10, R@10, NDCG@10, coverage).")

    @Option(help: "The interactions file.") var data: String
    @Option(help: "User attributes (for usercf blends).") var userAttributes: String?
    @Option(help: "Item attributes (for itemcf blends).") var itemAttributes: String?
    @Option(help: "User attribute columns.") var userFeatures = "age/10, gender, occupation, zip_code[:1]"
    @Option(help: "Item attribute columns.") var itemFeatures = "class, release_year/10"
    @Option(help: "Comma-separated algorithms.") var algorithms = "usercf,itemcf"
    @Option(help: "Comma-separated feedbacks.") var feedbacks = "implicit"
    @Option(help: "Comma-separated similarities.") var similarities = "cosine,pearson,jaccard,euclidean"
    @Option(help: "Comma-separated K values.") var neighbours = "20,50"
    @Option(help: "Comma-separated attribute weights (0: behaviour only).") var featureWeights = "0"
    @Flag(help: "Also try iuf / iif and normalize (itemcf) where they apply.") var weightings = false
    @Option(help: "Rows of the final table.") var show = 20
    @Option(help: "The split seed.") var seed: UInt64 = SplitHash.defaultSeed

    func run() throws {
        let table = try loadTable(data)
        let users = try userAttributes.map { try AttributeTable(contentsOfFile: $0) }
        let items = try itemAttributes.map { try AttributeTable(contentsOfFile: $0) }
        var rows: [(manifest: Manifest, metrics: [String: Double])] = []
        for manifest in try self.manifests() {
            let (report, seconds) = try timed {
                try Evaluation.evaluate(
                    table, manifest: manifest, protocol: .holdout8020, seed: seed, userAttributes: users,
                    itemAttributes: items
                )
            }
            rows.append((manifest, report.metrics))
            FileHandle.standardError.write(
                Data("\(Self.label(manifest)): P@10 \(format(report.metrics["precision@10"])) (\(format(seconds)) s)\n".utf8)
            )
        }
        rows.sort { ($0.metrics["precision@10"] ?? 0) > ($1.metrics["precision@10"] ?? 0) }
        print("| algorithm | feedback | similarity | K | weighting | normalize | feature weight | P@10 | R@10 | NDCG@10 | cov@10 |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for (manifest, metrics) in rows.prefix(show) {
            let blend = manifest.algorithm == .userCF ? manifest.userFeatureWeight : manifest.itemFeatureWeight
            let cells = [
                manifest.algorithm.rawValue, manifest.feedback.rawValue, manifest.similarity.rawValue,
                "\(manifest.neighbours)", manifest.weighting.rawValue,
                manifest.algorithm == .itemCF ? (manifest.normalize ? "on" : "off") : "–", "\(blend)",
                format(metrics["precision@10"]), format(metrics["recall@10"]), format(metrics["ndcg@10"]),
                format(metrics["coverage@10"]),
            ]
            print("| " + cells.joined(separator: " | ") + " |")
        }
    }

    /// Every valid combination of the options' lists.
    func manifests() throws -> [Manifest] {
        func list(_ text: String) -> [String] { text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let userColumns = try FeatureColumn.parse(list: userFeatures)
        let itemColumns = try FeatureColumn.parse(list: itemFeatures)
        var manifests: [Manifest] = []
        for algorithmName in list(algorithms) {
            guard let algorithm = Manifest.Algorithm(rawValue: algorithmName) else {
                throw ValidationError("unknown algorithm '\(algorithmName)'")
            }
            for feedbackName in list(feedbacks) {
                guard let feedback = Manifest.Feedback(rawValue: feedbackName) else {
                    throw ValidationError("unknown feedback '\(feedbackName)'")
                }
                for similarityName in list(similarities) {
                    guard let similarity = Manifest.Similarity(rawValue: similarityName) else {
                        throw ValidationError("unknown similarity '\(similarityName)'")
                    }
                    for k in list(neighbours) {
                        guard let k = Int(k) else { throw ValidationError("K '\(k)' is not an integer") }
                        for weightText in list(featureWeights) {
                            guard let weight = Double(weightText) else {
                                throw ValidationError("feature weight '\(weightText)' is not a number")
                            }
                            let weightingChoices: [Manifest.Weighting] =
                                self.weightings && similarity == .cosine ? [.none, algorithm == .itemCF ? .iuf : .iif] : [.none]
                            let normalizations = self.weightings && algorithm == .itemCF ? [false, true] : [false]
                            for weighting in weightingChoices {
                                for normalize in normalizations {
                                    var manifest = Manifest(
                                        algorithm: algorithm, neighbours: k, feedback: feedback, weighting: weighting,
                                        normalize: normalize, similarity: similarity
                                    )
                                    if weight > 0 && algorithm == .userCF {
                                        (manifest.userFeatureWeight, manifest.userFeatures) = (weight, userColumns)
                                    } else if weight > 0 {
                                        (manifest.itemFeatureWeight, manifest.itemFeatures) = (weight, itemColumns)
                                    }
                                    if (try? manifest.validate()) != nil {
                                        manifests.append(manifest)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return manifests
    }

    static func label(_ manifest: Manifest) -> String {
        manifest.description.split(separator: "\n").filter { !$0.hasPrefix("user_features") && !$0.hasPrefix("item_features") }
            .joined(separator: "; ")
    }
}
