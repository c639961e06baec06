import AIMassAPI
import Foundation
import Logging
import ModelRegistry
import RPCCore
import RecommendCore

/// `aimass.v1.Recommend`: recommendations, similar items and evaluation of registry versions.
///
/// In the embedded process the models are served by this process's own worker: a version is
/// loaded from its registry artifact on first use (see ``LoadedModelCache``). Every call needs
/// the READER role on the model; storing evaluation metrics needs WRITER.
public struct RecommendService: RPCService {
    public static let serviceName = "aimass.v1.Recommend"

    let registry: ModelRegistry
    let cache: LoadedModelCache
    let workerID: String

    public init(registry: ModelRegistry, cache: LoadedModelCache = LoadedModelCache(), workerID: String = "local") {
        self.registry = registry
        self.cache = cache
        self.workerID = workerID
    }

    public func registerMethods(with router: inout RPCRouter) {
        func method(_ name: String) -> MethodDescriptor { MethodDescriptor(service: Self.serviceName, method: name) }
        router.registerUnary(method("Recommend")) { (request: RecommendRequest, context) in
            try await recommend(request, context: context)
        }
        router.registerUnary(method("SimilarItems")) { (request: SimilarItemsRequest, context) in
            try await similarItems(request, context: context)
        }
        router.registerUnary(method("Evaluate")) { (request: EvaluateRequest, context) in
            try await evaluate(request, context: context)
        }
    }

    func recommend(_ request: RecommendRequest, context: ServerContext) async throws -> RecommendResponse {
        let k = try Self.k(request.k)
        let (version, model) = try await loaded(request.model, request.version, context: context)
        let results: [Recommendation]
        switch (request.userId.isEmpty, request.seedItems.isEmpty) {
        case (false, true):
            results = try model.recommend(user: request.userId, k: k, excludeSeen: request.excludeSeen)
        case (true, false):
            results = try model.recommend(seedItems: request.seedItems, k: k, excludeSeen: request.excludeSeen)
        case (true, true):
            throw RPCError(code: .invalidArgument, message: "give a user_id or seed_items")
        case (false, false):
            throw RPCError(code: .invalidArgument, message: "give a user_id or seed_items, not both")
        }
        return RecommendResponse(items: results.map(Self.scored), servedBy: servedBy(version))
    }

    func similarItems(_ request: SimilarItemsRequest, context: ServerContext) async throws -> SimilarItemsResponse {
        let k = try Self.k(request.k)
        guard !request.itemId.isEmpty else { throw RPCError(code: .invalidArgument, message: "item_id is required") }
        let (version, model) = try await loaded(request.model, request.version, context: context)
        let results = try model.similarItems(item: request.itemId, k: k)
        return SimilarItemsResponse(items: results.map(Self.scored), servedBy: servedBy(version))
    }

    func evaluate(_ request: EvaluateRequest, context: ServerContext) async throws -> EvaluateResponse {
        let principal = try registry.principal(for: context)
        let k = request.k == 0 ? 10 : try Self.k(request.k)
        let evaluationProtocol: EvaluationProtocol
        let prefix: String
        switch request.protocol {
        case .leaveLastOneOut, .unspecified:
            (evaluationProtocol, prefix) = (.leaveLastOneOut, "loo")
        case .holdout8020:
            (evaluationProtocol, prefix) = (.holdout8020, "holdout")
        }
        let version = try registry.getVersion(model: request.model, try request.version.reference(), by: principal)
        let (table, manifest) = try loadInputs(version, principal: principal)
        let seed = request.seed == 0 ? SplitHash.defaultSeed : request.seed
        let report = try Evaluation.evaluate(table, manifest: manifest, protocol: evaluationProtocol, cutoff: k, seed: seed)
        let metrics = Dictionary(uniqueKeysWithValues: report.metrics.map { ("\(prefix).\($0.key)", $0.value) })
        var stored = false
        if !request.dryRun {
            _ = try registry.setVersionMetrics(model: version.model, version: .number(version.number), metrics: metrics, by: principal)
            stored = true
        }
        context.logger.info(
            "evaluated",
            metadata: ["model": "\(version.model)", "version": "\(version.number)", "protocol": "\(prefix)"]
        )
        return EvaluateResponse(
            model: version.model,
            version: UInt32(version.number),
            metrics: metrics,
            stored: stored,
            evaluatedAtMs: Int64(Date().timeIntervalSince1970 * 1000)
        )
    }

    // MARK: Loading

    private func loaded(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext
    ) async throws -> (ModelVersion, Recommender) {
        guard !model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        let principal = try registry.principal(for: context)
        let version = try registry.getVersion(model: model, try selector.reference(), by: principal)
        let recommender = try await cache.recommender(for: version) {
            let (table, manifest) = try loadInputs(version, principal: principal)
            return try Recommender(interactions: table, manifest: manifest)
        }
        return (version, recommender)
    }

    /// Reads a version's interactions and manifest.
    private func loadInputs(_ version: ModelVersion, principal: Principal) throws -> (InteractionTable, Manifest) {
        let manifestText = version.manifest.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: "\n")
        let manifest: Manifest
        do {
            manifest = try Manifest(parsing: manifestText)
        } catch {
            throw RPCError(
                code: .failedPrecondition,
                message: "version \(version.number) of model '\(version.model)' has no valid recommendation manifest: \(error.message)"
            )
        }
        let reader = try registry.openArtifact(model: version.model, version: .number(version.number), by: principal)
        defer { reader.close() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(version.sizeBytes))
        while true {
            let chunk = try reader.read(upTo: 1 << 20)
            if chunk.isEmpty { break }
            bytes.append(contentsOf: chunk)
        }
        do {
            return (try InteractionTable(parsing: String(decoding: bytes, as: UTF8.self)), manifest)
        } catch {
            throw RPCError(
                code: .failedPrecondition,
                message: "version \(version.number) of model '\(version.model)' cannot be loaded: \(error.message)"
            )
        }
    }

    private func servedBy(_ version: ModelVersion) -> ServedBy {
        ServedBy(workerId: workerID, replicaId: "\(workerID)/\(version.model)@\(version.number)", version: UInt32(version.number))
    }

    private static func scored(_ recommendation: Recommendation) -> ScoredItem {
        ScoredItem(itemId: recommendation.item, score: recommendation.score)
    }

    /// `k` as asked, 10 when unset, and at most 10,000.
    private static func k(_ value: UInt32) throws(RPCError) -> Int {
        if value == 0 { return 10 }
        guard value <= 10_000 else {
            throw RPCError(code: .invalidArgument, message: "k must be between 1 and 10000, got \(value)")
        }
        return Int(value)
    }
}

extension RecommendError: RPCErrorConvertible {
    /// The gRPC status a recommendation error is reported as.
    public var rpcError: RPCError {
        let code: StatusCode =
            switch self.code {
            case .notFound: .notFound
            case .invalidArgument: .invalidArgument
            case .malformedInput: .failedPrecondition
            default: .internalError
            }
        return RPCError(code: code, message: message)
    }
}
