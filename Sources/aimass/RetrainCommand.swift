import AIMassAPI
import ArgumentParser
@preconcurrency import Foundation
import ModelRegistry
import RPCCore
import RPCHTTP2

/// `aimass retrain`: a new version from a version's data plus the feedback recorded since that version was built.
struct RetrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Build a new version from the latest version's data plus the feedback recorded after it.",
        discussion: """
            Downloads the version (default: the latest), appends to its interactions the feedback events recorded \\
            after the version was published (clicks, purchases and ratings; views are impressions, not \\
            interactions; with explicit feedback only ratings count), uploads the result as a new version with the \\
            same manifest, evaluates it on the holdout protocol and stores its metrics. Users and items that \\
            arrived through feedback become part of the model.

            Example:
              aimass retrain --model movies --json
            """
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "The version to start from (default: the latest).") var version: String?
    @Option(help: "The split seed of the evaluation.") var seed: UInt64 = 42

    func run() async throws {
        await options.run { client in
            let (source, chunks) = try await VersionTransfer.download(client: client, model: model, version: version)
            let explicit = source.manifest["feedback"] == "explicit"
            let events = try await allFeedback(client: client, model: model).compactMap { recorded -> FeedbackEvent? in
                guard recorded.recordedAtMs > source.createdAtMs, let event = recorded.event,
                    RetrainData.isInteraction(event.kind, explicit: explicit)
                else { return nil }
                return event
            }
            let artifact = RetrainData.appending(events, to: String(decoding: chunks.joined(), as: UTF8.self))
            let bytes = Array(artifact.utf8)
            let header = VersionHeader(
                model: model, description: "retrained from version \(source.number) with \(events.count) feedback events",
                sha256: try SHA256Hasher.hex(of: bytes), manifest: source.manifest,
                annotations: [
                    "retrain.source_version": String(source.number), "retrain.feedback_events": String(events.count),
                ])
            let chunkSize = 1 << 20
            let parts = stride(from: 0, to: bytes.count, by: chunkSize).map { Array(bytes[$0..<min($0 + chunkSize, bytes.count)]) }
            let created = try await VersionTransfer.upload(client: client, header: header, chunks: parts)
            let evaluated: EvaluateResponse = try await client.unary(
                RecommendMethods.evaluate,
                EvaluateRequest(
                    model: model, version: VersionSelector(number: created.number), protocol: .holdout8020, seed: seed))
            if options.json {
                CLIOutput.printJSON([
                    "version": created.number, "source_version": source.number, "feedback_events": events.count,
                    "metrics": evaluated.metrics,
                ])
            } else {
                print("stored \(model) version \(created.number): version \(source.number) + \(events.count) feedback events")
                for (key, value) in evaluated.metrics.sorted(by: { $0.key < $1.key }) {
                    print(String(format: "  %@ = %.4f", key, value))
                }
            }
        }
    }
}

/// How feedback becomes interaction rows of an artifact: pure, for the tests.
enum RetrainData {
    /// Whether an event of this kind is an interaction: clicks, purchases, ratings (ratings only with explicit
    /// feedback); a view is an impression.
    static func isInteraction(_ kind: FeedbackKind, explicit: Bool) -> Bool {
        explicit ? kind == .rating : [.click, .purchase, .rating].contains(kind)
    }

    /// The artifact with `events` as rows at the end of its interactions (the `interactions` section of a
    /// sectioned file, or the whole file), in the columns of its header when it has one (user, item, rating,
    /// timestamp in seconds) and its delimiter.
    static func appending(_ events: [FeedbackEvent], to artifact: String) -> String {
        guard !events.isEmpty else { return artifact }
        var lines = artifact.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let marker = "#%section "
        let sectioned = lines.contains { $0.hasPrefix(marker) }
        var start = 0
        if sectioned, let index = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == marker + "interactions" }) {
            start = index + 1
        }
        var end = lines.count
        if sectioned, let next = lines[start...].firstIndex(where: { $0.hasPrefix(marker) }) { end = next }
        let first = lines[start..<end].first { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") } ?? ""
        let delimiter = first.contains("\t") ? "\t" : first.contains(",") ? "," : " "
        let fields = first.components(separatedBy: delimiter).map {
            $0.trimmingCharacters(in: .whitespaces).lowercased().split(separator: ":").first.map(String.init) ?? ""
        }
        let header = fields.contains { ["user", "user_id", "userid", "uid"].contains($0) }
        let order: [String] =
            header
            ? fields.map { field in
                switch field {
                case "user", "user_id", "userid", "uid": "user"
                case "item", "item_id", "itemid", "iid", "movie_id", "movieid": "item"
                case "rating", "score", "value", "weight": "rating"
                case "timestamp", "time", "ts": "timestamp"
                default: ""
                }
            } : ["user", "item", "rating", "timestamp"]
        let rows = events.map { event in
            order.map { column -> String in
                switch column {
                case "user": event.userId
                case "item": event.itemId
                case "rating": Self.number(event.value == 0 ? 1 : event.value)
                case "timestamp": String(event.atMs / 1000)
                default: ""
                }
            }.joined(separator: delimiter)
        }
        lines.insert(contentsOf: rows, at: end)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
