import ArgumentParser
import Foundation
import RecommendCore

/// Offline metrics of one manifest, or of the whole variant grid as a Markdown table.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Offline metrics of one manifest, or of the variant grid (--grid).")

    @Option(help: "The interactions file.") var data: String
    @Option(name: .customLong("protocol"), help: "loo, 8020 or both.") var evaluationProtocols = "both"
    @Option(help: "A JSON file for the metrics.") var out: String?
    @Flag(help: "Every variant of the grid, as a Markdown table (with --feedback).") var grid = false
    @OptionGroup var manifestOptions: ManifestOptions

    func run() throws {
        let protocols: [EvaluationProtocol]
        switch evaluationProtocols {
        case "loo": protocols = [.leaveLastOneOut]
        case "8020": protocols = [.holdout8020]
        case "both": protocols = [.leaveLastOneOut, .holdout8020]
        case let other: throw ValidationError("unknown --protocol '\(other)' (loo, 8020 or both)")
        }
        let table = try loadTable(data)
        if grid {
            let feedback = Manifest.Feedback(rawValue: manifestOptions.feedback ?? "implicit") ?? .implicit
            try Self.grid(table, feedback: feedback)
            return
        }
        let manifest = try manifestOptions.parsed()
        let attributes = try manifestOptions.attributes()
        var reports: [String] = []
        for evaluationProtocol in protocols {
            let (report, seconds) = try timed {
                try Evaluation.evaluate(
                    table, manifest: manifest, protocol: evaluationProtocol, userAttributes: attributes.users,
                    itemAttributes: attributes.items
                )
            }
            let metrics = report.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(format($0.value))" }
            print("\(report.protocolName): \(metrics.joined(separator: " ")) (\(format(seconds)) s)")
            let fields = report.metrics.sorted { $0.key < $1.key }.map { "\(quoted($0.key)): \($0.value)" }
            reports.append("\(quoted(report.protocolName)): {\(fields.joined(separator: ", "))}")
        }
        if let out {
            try Data("{\(reports.joined(separator: ", "))}\n".utf8).write(to: URL(filePath: out))
        }
    }

    /// itemcf none/iuf × normalize off/on, usercf none/iif, each with K 20 and 50; both protocols.
    static func grid(_ table: InteractionTable, feedback: Manifest.Feedback) throws {
        var manifests: [Manifest] = []
        for neighbours in [20, 50] {
            for weighting in [Manifest.Weighting.none, .iuf] {
                for normalize in [false, true] {
                    manifests.append(
                        Manifest(algorithm: .itemCF, neighbours: neighbours, feedback: feedback, weighting: weighting, normalize: normalize)
                    )
                }
            }
            for weighting in [Manifest.Weighting.none, .iif] {
                manifests.append(Manifest(algorithm: .userCF, neighbours: neighbours, feedback: feedback, weighting: weighting))
            }
        }
        print("| algorithm | K | weighting | normalize | LOO HR@10 | LOO NDCG@10 | LOO cov@10 | P@10 | R@10 | NDCG@10 | cov@10 |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for manifest in manifests {
            let loo = try Evaluation.evaluate(table, manifest: manifest, protocol: .leaveLastOneOut).metrics
            let holdout = try Evaluation.evaluate(table, manifest: manifest, protocol: .holdout8020).metrics
            let cells = [
                manifest.algorithm.rawValue, "\(manifest.neighbours)", manifest.weighting.rawValue,
                manifest.algorithm == .itemCF ? (manifest.normalize ? "on" : "off") : "–",
                format(loo["hr@10"]), format(loo["ndcg@10"]), format(loo["coverage@10"]),
                format(holdout["precision@10"]), format(holdout["recall@10"]), format(holdout["ndcg@10"]),
                format(holdout["coverage@10"]),
            ]
            print("| " + cells.joined(separator: " | ") + " |")
        }
    }
}

func format(_ value: Double?) -> String {
    guard let value else {
        return "–"
    }
    return String(format: "%.4f", value)
}
