import AIMassAPI
import ArgumentParser
@preconcurrency import Foundation
import RPCCore
import RPCHTTP2

/// `aimass tune`: searches manifests on a version's data by its holdout metric (Recommend.Evaluate with manifest
/// overrides, dry runs), then stores the best as a new version of the same data with its metrics and the trials.
struct TuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search algorithms, similarities, K, weighting and attribute weights; store the best as a new version.",
        discussion: """
            A coordinate search on the 80/20 holdout (seed 42 unless --seed) of the version's data: both \\
            algorithms from a cosine start, then each dimension in turn (similarity and feedback, K, weighting, \\
            attribute weight) keeping what improves the metric, until a pass improves nothing or --budget \\
            evaluations are spent. Attribute weights are tried only with --user-features / --item-features (the \\
            columns of the version's users/items sections). Progress goes to stderr; Ctrl-C stops the search and \\
            stores nothing. The new version carries the best manifest, its holdout metrics, and the trials in its \\
            annotation `tune.trials`.

            Example:
              aimass tune --model movies --user-features 'age/10, gender, occupation, zip_code[:1]' --json
            """
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "The version whose data is tuned (default: the latest).") var version: String?
    @Option(help: "The most evaluations to run.") var budget: Int = 40
    @Option(help: "The metric to maximise.") var metric: String = "holdout.precision@10"
    @Option(help: "The split seed.") var seed: UInt64 = 42
    @Option(help: "UserCF attribute columns (enables user attribute weights).") var userFeatures: String?
    @Option(help: "ItemCF attribute columns (enables item attribute weights).") var itemFeatures: String?
    @Flag(help: "Search only; store nothing.") var dryRun = false

    func run() async throws {
        guard (1...1000).contains(budget) else { throw ValidationError("--budget must be 1 to 1000") }
        await options.run { client in
            let search = TuneSearch(userFeatures: userFeatures, itemFeatures: itemFeatures)
            var trials: [(manifest: [String: String], metrics: [String: Double])] = []
            var evaluated = Set<[String: String]>()
            func score(_ manifest: [String: String]) async throws -> Double? {
                guard !evaluated.contains(manifest), trials.count < budget else { return nil }
                evaluated.insert(manifest)
                let response: EvaluateResponse = try await client.unary(
                    RecommendMethods.evaluate,
                    EvaluateRequest(
                        model: model, version: versionSelector(version), protocol: .holdout8020, seed: seed,
                        dryRun: true, manifestOverrides: manifest))
                guard let value = response.metrics[metric] else {
                    throw RPCError(code: .invalidArgument, message: "the evaluation has no metric '\(metric)'")
                }
                trials.append((manifest, response.metrics))
                CLIOutput.stderr(String(format: "trial %d/%d: %@ = %.4f  (%@)\n", trials.count, budget, metric, value,
                                        TuneSearch.describe(manifest)))
                return value
            }
            var best: (manifest: [String: String], value: Double)? = nil
            for start in search.starts() {
                if let value = try await score(start), value > (best?.value ?? -1) { best = (start, value) }
            }
            var improved = true
            while improved, var current = best, trials.count < budget {
                improved = false
                for dimension in TuneSearch.Dimension.allCases {
                    for candidate in search.neighbours(of: current.manifest, along: dimension) {
                        guard let value = try await score(candidate) else { continue }
                        if value > current.value {
                            current = (candidate, value)
                            improved = true
                        }
                    }
                }
                best = current
            }
            guard let best, let bestMetrics = trials.first(where: { $0.manifest == best.manifest })?.metrics else {
                throw RPCError(code: .failedPrecondition, message: "no trial ran")
            }
            let trialsJSON = trials.map { ["manifest": $0.manifest, "metrics": $0.metrics] as [String: Any] }
            var stored: UInt32 = 0
            if !dryRun {
                stored = try await Self.storeVersion(
                    client: client, model: model, version: version, manifest: best.manifest, metrics: bestMetrics,
                    trials: trialsJSON)
            }
            if options.json {
                CLIOutput.printJSON([
                    "version": stored, "manifest": best.manifest, "metrics": bestMetrics, "trials": trialsJSON,
                ])
            } else {
                print(String(format: "best %@ = %.4f with %@", metric, best.value, TuneSearch.describe(best.manifest)))
                if stored > 0 { print("stored as \(model) version \(stored)") }
            }
        }
    }

    /// Uploads the tuned version's data again (downloaded and checked) with the best manifest, its metrics and
    /// the trials.
    static func storeVersion(
        client: APIClient, model: String, version: String?, manifest: [String: String], metrics: [String: Double],
        trials: [[String: Any]]
    ) async throws -> UInt32 {
        let (source, chunks) = try await VersionTransfer.download(client: client, model: model, version: version)
        let trialsText = String(
            decoding: try JSONSerialization.data(withJSONObject: trials, options: [.sortedKeys]), as: UTF8.self)
        let header = VersionHeader(
            model: model, description: "tuned from version \(source.number)", sha256: source.sha256, manifest: manifest,
            metrics: metrics, annotations: ["tune.trials": trialsText, "tune.source_version": String(source.number)])
        let created = try await VersionTransfer.upload(client: client, header: header, chunks: chunks)
        return created.number
    }
}

/// The search space of `aimass tune` and its moves: pure, so the order of trials is the same on every run.
struct TuneSearch {
    enum Dimension: CaseIterable {
        case similarity, neighbours, weighting, attributes
    }

    let userFeatures: String?
    let itemFeatures: String?

    /// Both algorithms, cosine on implicit feedback, K 50.
    func starts() -> [[String: String]] {
        ["usercf", "itemcf"].map { ["algorithm": $0, "neighbours": "50", "similarity": "cosine", "feedback": "implicit"] }
    }

    /// The manifests one step from `manifest` along `dimension` (the others kept).
    func neighbours(of manifest: [String: String], along dimension: Dimension) -> [[String: String]] {
        let userCF = manifest["algorithm"] == "usercf"
        var out: [[String: String]] = []
        func with(_ changes: [String: String?]) {
            var next = manifest
            for (key, value) in changes { next[key] = value }
            out.append(next)
        }
        switch dimension {
        case .similarity:
            for similarity in ["cosine", "pearson", "jaccard"] {
                for feedback in ["implicit", "explicit"] { with(["similarity": similarity, "feedback": feedback, "weighting": nil]) }
            }
            with(["similarity": "adjusted_cosine", "feedback": "explicit", "weighting": nil])
        case .neighbours:
            for k in ["10", "20", "30", "50", "80", "100", "200"] { with(["neighbours": k]) }
        case .weighting:
            guard manifest["similarity"] == "cosine" else { return [] }
            with(["weighting": userCF ? "iif" : "iuf"])
            with(["weighting": nil])
        case .attributes:
            let (weightKey, featuresKey, features) =
                userCF
                ? ("user_feature_weight", "user_features", userFeatures)
                : ("item_feature_weight", "item_features", itemFeatures)
            guard let features else { return [] }
            for weight in ["0.02", "0.05", "0.1", "0.2"] { with([weightKey: weight, featuresKey: features]) }
            with([weightKey: nil, featuresKey: nil])
        }
        return out.filter { $0 != manifest }
    }

    /// `usercf pearson explicit K50 users 0.05`.
    static func describe(_ manifest: [String: String]) -> String {
        var parts = [manifest["algorithm"] ?? "?", manifest["similarity"] ?? "cosine", manifest["feedback"] ?? "implicit",
                     "K\(manifest["neighbours"] ?? "20")"]
        if let weighting = manifest["weighting"] { parts.append(weighting) }
        if let weight = manifest["user_feature_weight"] { parts.append("users \(weight)") }
        if let weight = manifest["item_feature_weight"] { parts.append("items \(weight)") }
        return parts.joined(separator: " ")
    }
}
