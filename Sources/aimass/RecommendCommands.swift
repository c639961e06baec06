import AIMassAPI
import ArgumentParser
@preconcurrency import Foundation
import RPCCore
import RPCHTTP2

/// Prints scored items as a table or JSON, with a TITLE column when the version has titles.
func printScored(_ items: [ScoredItem], servedBy: ServedBy?, path: ServingPath? = nil, json: Bool) {
    let pathName = path.map(servingPathName)
    if json {
        var output: [String: Any] = [
            "items": items.map { ["item_id": $0.itemId, "score": $0.score, "title": $0.title] },
            "served_by": ["worker_id": servedBy?.workerId ?? "", "version": servedBy?.version ?? 0],
        ]
        if let pathName { output["path"] = pathName }
        CLIOutput.printJSON(output)
        return
    }
    let titled = items.contains { !$0.title.isEmpty }
    CLIOutput.printTable(
        titled ? ["RANK", "ITEM", "TITLE", "SCORE"] : ["RANK", "ITEM", "SCORE"],
        items.enumerated().map { rank, item in
            ["\(rank + 1)", item.itemId] + (titled ? [item.title] : []) + [String(format: "%.6f", item.score)]
        }
    )
    if let servedBy {
        CLIOutput.stderr("served by \(servedBy.workerId), version \(servedBy.version)\(pathName.map { " (\($0))" } ?? "")\n")
    }
}

/// The path's name as the CLI prints it (`history`, `seed_items`, `attribute_neighbours`, `popularity`).
func servingPathName(_ path: ServingPath) -> String {
    switch path {
    case .history: "history"
    case .seedItems: "seed_items"
    case .attributeNeighbours: "attribute_neighbours"
    case .popularity: "popularity"
    default: "unspecified"
    }
}

/// `aimass recommend`: top-k items for a user, or for seed items (an anonymous user).
struct RecommendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Recommend items for a user, or for a set of seed items.",
        discussion: """
            Examples:
              aimass recommend --model movies --user 196 -k 10
              aimass recommend --model dishes --seed mapo_tofu --seed kung_pao_chicken
              aimass recommend --model movies --user newcomer --attribute gender=F --attribute occupation=writer

            A user the version has no interactions of is served from attribute neighbours (their --attribute \
            values, or the version's users section) or, knowing nothing, by popularity; stderr names the path.
            """
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "The version number or alias (default: the latest).") var version: String?
    @Option(help: "The user id.") var user: String?
    @Option(name: .customLong("seed"), help: "A seed item, for an anonymous user (repeatable).") var seeds: [String] = []
    @Option(name: .short, help: "How many items.") var k: UInt32 = 10
    @Flag(help: "Also return items the user (or the seeds) already have.") var includeSeen = false
    @Option(
        name: .customLong("attribute"),
        help: "A cold-start user's attribute, name=value (repeatable; columns of the version's users section).")
    var attributes: [String] = []

    func run() async throws {
        guard (user != nil) != !seeds.isEmpty else { CLIOutput.fail("give --user or --seed (not both)") }
        let request = RecommendRequest(
            model: model,
            version: versionSelector(version),
            userId: user ?? "",
            seedItems: seeds,
            k: k,
            excludeSeen: !includeSeen,
            userAttributes: keyValues(attributes, option: "attribute")
        )
        await options.run { client in
            let response: RecommendResponse = try await client.unary(RecommendMethods.recommend, request)
            printScored(response.items, servedBy: response.servedBy, path: response.path, json: options.json)
        }
    }
}

/// `aimass similar`: the items most similar to one item.
struct SimilarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar",
        abstract: "Items similar to an item (choose a dish, get related dishes).",
        discussion: """
            Example:
              aimass similar --model dishes --item kung_pao_chicken -k 5
            """
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "The version number or alias (default: the latest).") var version: String?
    @Option(help: "The item id.") var item: String
    @Option(name: .short, help: "How many items.") var k: UInt32 = 10

    func run() async throws {
        let request = SimilarItemsRequest(model: model, version: versionSelector(version), itemId: item, k: k)
        await options.run { client in
            let response: SimilarItemsResponse = try await client.unary(RecommendMethods.similarItems, request)
            printScored(response.items, servedBy: response.servedBy, json: options.json)
        }
    }
}

/// `aimass evaluate`: hold-out metrics of a version, stored on it.
struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a version on held-out interactions and store the metrics on it.",
        discussion: """
            Protocols: loo (leave the last interaction of each user out: HR@k, NDCG@k) and holdout \
            (80/20 per user: precision, recall, NDCG at k and coverage).
            Examples:
              aimass evaluate --model movies --version 2
              aimass evaluate --model movies --protocol holdout --dry-run --json
            """
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "The version number or alias (default: the latest).") var version: String?
    @Option(name: .customLong("protocol"), help: "loo or holdout.") var evaluationProtocol: String = "loo"
    @Option(name: .short, help: "The cut-off k.") var k: UInt32 = 10
    @Option(help: "The split seed.") var seed: UInt64 = 42
    @Flag(help: "Compute the metrics without storing them.") var dryRun = false

    func run() async throws {
        let protocolValue: EvalProtocol
        switch evaluationProtocol {
        case "loo": protocolValue = .leaveLastOneOut
        case "holdout": protocolValue = .holdout8020
        default: CLIOutput.fail("--protocol must be loo or holdout, got '\(evaluationProtocol)'")
        }
        let request = EvaluateRequest(
            model: model,
            version: versionSelector(version),
            protocol: protocolValue,
            k: k,
            seed: seed,
            dryRun: dryRun
        )
        await options.run { client in
            // A live elapsed-time line on a terminal: evaluating a large model takes a while.
            let ticker = isatty(STDERR_FILENO) == 1 ? Task {
                let start = ContinuousClock.now
                while !Task.isCancelled {
                    let seconds = Double((ContinuousClock.now - start).components.seconds)
                    CLIOutput.stderr(String(format: "\revaluating %@ … %.0f s", model, seconds))
                    try? await Task.sleep(for: .milliseconds(500))
                }
                CLIOutput.stderr("\r\u{1B}[K")
            } : nil
            defer { ticker?.cancel() }
            let response: EvaluateResponse = try await client.unary(RecommendMethods.evaluate, request)
            ticker?.cancel()
            _ = await ticker?.value
            if options.json {
                CLIOutput.printJSON([
                    "model": response.model, "version": response.version, "metrics": response.metrics,
                    "stored": response.stored,
                ])
                return
            }
            let metrics = response.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4f", $0.value))" }
            print("evaluated \(response.model) v\(response.version): \(metrics.joined(separator: " "))")
            if response.stored { CLIOutput.stderr("metrics stored on version \(response.version)\n") }
        }
    }
}
