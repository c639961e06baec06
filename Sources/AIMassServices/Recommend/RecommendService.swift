import AIMassAPI
import AIMassTracing
import Foundation
import Logging
import ModelRegistry
import RPCCore
import Tracing
import RecommendCore

/// `aimass.v1.Recommend`: recommendations, similar items and evaluation of registry versions.
///
/// The model that answers a call comes from a ``ModelSource``: on the control plane of the embedded process a
/// deployed model is served by the local worker's replicas and an undeployed one is loaded lazily from the
/// registry (``RegistryModelSource``, kept for backward compatibility); on a worker process only its own ready
/// replicas serve (``ReplicaModelSource``). Every call needs the READER role on the model; `Evaluate` exists only
/// where there is a registry (the control plane) and storing its metrics needs WRITER.
public struct RecommendService: RPCService {
    public static let serviceName = RecommendMethods.serviceName

    /// Which version an alias with an A/B split serves a user (the split's sticky choice), or nil when no split of
    /// that alias is known here (the alias is then resolved as any other).
    public typealias SplitRouter =
        @Sendable (_ model: String, _ alias: String, _ user: String, _ context: ServerContext) throws(RPCError) -> UInt32?

    let registry: ModelRegistry?
    let source: any ModelSource
    let splits: SplitRouter?

    /// The embedded default: lazy loading from the registry, plus `Evaluate`.
    public init(
        registry: ModelRegistry, cache: LoadedModelCache = LoadedModelCache(), workerID: String = "local",
        executor: InferenceExecutor = .shared
    ) {
        self.registry = registry
        self.source = RegistryModelSource(registry: registry, cache: cache, workerID: workerID, executor: executor)
        self.splits = Self.splitRouter(registry)
    }

    /// A service whose models come from `source`; `Evaluate` is registered only when `registry` is given. A/B splits
    /// are routed by `splits` (a worker: the splits the control plane pushed), else by the registry's.
    public init(source: any ModelSource, registry: ModelRegistry?, splits: SplitRouter? = nil) {
        self.registry = registry
        self.source = source
        self.splits = splits ?? registry.map(Self.splitRouter)
    }

    /// The registry's A/B splits, read from its access cache (no SQLite on a hit) under the caller's principal.
    public static func splitRouter(_ registry: ModelRegistry) -> SplitRouter {
        { (model, alias, user, context) throws(RPCError) -> UInt32? in
            do {
                let principal = try registry.principal(for: context)
                guard let split = try registry.aliasSplit(model: model, alias: alias, by: principal) else { return nil }
                return UInt32(clamping: split.version(model: model, user: user))
            } catch {
                throw RPCError(mapping: error)
            }
        }
    }

    public func registerMethods(with router: inout RPCRouter) {
        // Started on the I/O thread: a cheap model's answer never leaves it (see ModelSource.startServing).
        router.registerUnary(RecommendMethods.recommend, inlineFirst: { (request: RecommendRequest, context) throws(RPCError) in
            try startRecommend(request, context: context)
        })
        router.registerUnary(RecommendMethods.similarItems, inlineFirst: { (request: SimilarItemsRequest, context) throws(RPCError) in
            try startSimilarItems(request, context: context)
        })
        if let registry {
            router.registerUnary(RecommendMethods.evaluate) { (request: EvaluateRequest, context) in
                try await evaluate(request, registry: registry, context: context)
            }
        }
    }

    func startRecommend(_ request: RecommendRequest, context: ServerContext) throws(RPCError) -> UnaryOutcome<RecommendResponse> {
        let k = try Self.k(request.k)
        guard !request.model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        switch (request.userId.isEmpty, request.seedItems.isEmpty) {
        case (true, true):
            throw RPCError(code: .invalidArgument, message: "give a user_id or seed_items")
        case (false, false):
            throw RPCError(code: .invalidArgument, message: "give a user_id or seed_items, not both")
        default: break
        }
        let selector = try splitSelector(request, context: context)
        return try source.startServing(request.model, selector, context: context) { served in
            try context.withSpan("recommend.top_k") { span in
                span?.attributes = Self.spanAttributes(model: request.model, served: served, k: k)
                let model = served.recommender
                let answer =
                    request.userId.isEmpty
                    ? try model.serve(seedItems: request.seedItems, k: k, excludeSeen: request.excludeSeen)
                    : try model.serve(
                        user: request.userId, attributes: request.userAttributes, k: k, excludeSeen: request.excludeSeen)
                return RecommendResponse(
                    items: answer.items.map { Self.scored($0, titles: model) }, servedBy: served.servedBy,
                    path: Self.servingPath(answer.path))
            }
        }
    }

    /// The version that serves this user when the request names an alias with an A/B split (sticky by the user's
    /// hash, see ``AliasSplit/version(model:user:)``); otherwise the request's selector. On the control plane and
    /// the embedded process the registry's splits decide, on a worker the ones the control plane pushed: the same
    /// rule, so a user gets the same version wherever the call lands.
    func splitSelector(_ request: RecommendRequest, context: ServerContext) throws(RPCError) -> VersionSelector? {
        guard let splits, !request.userId.isEmpty, let selector = request.version, selector.number == 0,
            !selector.alias.isEmpty, selector.alias != "latest",
            let version = try splits(request.model, selector.alias, request.userId, context)
        else {
            return request.version
        }
        return VersionSelector(number: version)
    }

    static func servingPath(_ path: RecommendCore.ServingPath) -> AIMassAPI.ServingPath {
        switch path {
        case .history: .history
        case .seedItems: .seedItems
        case .attributeNeighbours: .attributeNeighbours
        case .popularity: .popularity
        }
    }

    func startSimilarItems(
        _ request: SimilarItemsRequest, context: ServerContext
    ) throws(RPCError) -> UnaryOutcome<SimilarItemsResponse> {
        let k = try Self.k(request.k)
        guard !request.model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        guard !request.itemId.isEmpty else { throw RPCError(code: .invalidArgument, message: "item_id is required") }
        return try source.startServing(request.model, request.version, context: context) { served in
            try context.withSpan("similar_items.top_k") { span in
                span?.attributes = Self.spanAttributes(model: request.model, served: served, k: k)
                let results = try served.recommender.similarItems(item: request.itemId, k: k)
                return SimilarItemsResponse(
                    items: results.map { Self.scored($0, titles: served.recommender) }, servedBy: served.servedBy)
            }
        }
    }

    /// What a trace shows of the model work: which model, version, replica and worker, and k.
    static func spanAttributes(model: String, served: ServedModel, k: Int) -> SpanAttributes {
        var attributes: SpanAttributes = [:]
        attributes["aimass.model"] = model
        attributes["aimass.version"] = Int64(served.servedBy.version)
        attributes["aimass.replica"] = served.servedBy.replicaId
        attributes["aimass.worker"] = served.servedBy.workerId
        attributes["aimass.k"] = Int64(k)
        return attributes
    }

    func evaluate(_ request: EvaluateRequest, registry: ModelRegistry, context: ServerContext) async throws -> EvaluateResponse {
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
        guard request.manifestOverrides.isEmpty || request.dryRun else {
            throw RPCError(
                code: .invalidArgument,
                message: "manifest_overrides needs dry_run: the metrics of another manifest are not the version's")
        }
        let version = try registry.getVersion(model: request.model, try request.version.reference(), by: principal)
        let (inputs, manifest) = try RecommenderBuilder.inputs(
            version: version, registry: registry, principal: principal, manifestOverrides: request.manifestOverrides)
        let seed = request.seed == 0 ? SplitHash.defaultSeed : request.seed
        let report = try Evaluation.evaluate(
            inputs.interactions, manifest: manifest, protocol: evaluationProtocol, cutoff: k, seed: seed,
            userAttributes: inputs.userAttributes, itemAttributes: inputs.itemAttributes
        )
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

    /// The API's scored item, with the item's title when the model has titles.
    private static func scored(_ recommendation: Recommendation, titles model: Recommender) -> ScoredItem {
        ScoredItem(itemId: recommendation.item, score: recommendation.score, title: model.title(of: recommendation.item) ?? "")
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
