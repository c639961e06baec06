import AIMassAPI
import RPCCore
import RecommendCore

/// The Open Inference Protocol v2 over gRPC (`inference.GRPCInferenceService`, KServe's and Triton's), on the same
/// port and serving path as `aimass.v1.Recommend`: `tritonclient` and KServe's clients work unmodified.
///
/// A deployed model is an OIP model: its name, and as version its number (empty for the newest ready one); it is
/// ready when at least one replica of it is ready here. `ModelInfer` takes the tensors of ``InferenceQuery`` and
/// goes through the same ``ModelSource`` as `Recommend` (authorization, version resolution, admission, the
/// inference executor), the call gate included: a batch of B users is one call, admitted once, and its B queries
/// run back to back on the replica picked.
///
/// `ServerLive`, `ServerReady` and `ServerMetadata` are public, as health is; `ModelReady`, `ModelMetadata` and
/// `ModelInfer` need READER on the model, like `Recommend`.
public struct InferenceService: RPCService {
    public static let serviceName = GRPCInferenceServiceMethods.serviceName
    /// `ServerMetadata`'s name.
    public static let serverName = "aimass"
    /// `ModelMetadata`'s platform: what kind of model answers.
    public static let platform = "aimass_recommender"

    let source: any ModelSource
    let models: InferenceModels
    let serverVersion: String

    /// A service whose models come from `source` (the one `RecommendService` uses) and `models`.
    public init(source: any ModelSource, models: InferenceModels, serverVersion: String = "1") {
        self.source = source
        self.models = models
        self.serverVersion = serverVersion
    }

    public func registerMethods(with router: inout RPCRouter) {
        router.registerInlineUnary(GRPCInferenceServiceMethods.serverLive) {
            (_: ServerLiveRequest, _) throws(RPCError) in
            ServerLiveResponse(live: true)
        }
        router.registerInlineUnary(GRPCInferenceServiceMethods.serverReady) {
            (_: ServerReadyRequest, _) throws(RPCError) in
            ServerReadyResponse(ready: models.serverReady())
        }
        router.registerInlineUnary(GRPCInferenceServiceMethods.serverMetadata) {
            (_: ServerMetadataRequest, _) throws(RPCError) in
            ServerMetadataResponse(name: Self.serverName, version: serverVersion, extensions: [])
        }
        router.registerUnary(GRPCInferenceServiceMethods.modelReady) { (request: ModelReadyRequest, context) in
            let version = try Self.version(request.version)
            try await authorize(request.name, context)
            let ready = models.readyVersions(request.name)
            return ModelReadyResponse(ready: version.map(ready.contains) ?? !ready.isEmpty)
        }
        router.registerUnary(GRPCInferenceServiceMethods.modelMetadata) { (request: ModelMetadataRequest, context) in
            let version = try Self.version(request.version)
            try await authorize(request.name, context)
            let ready = models.readyVersions(request.name)
            if let version, !ready.contains(version) {
                throw RPCError(
                    code: .notFound,
                    message: "version \(version) of model '\(request.name)' is not ready here"
                )
            }
            return ModelMetadataResponse(
                name: request.name,
                versions: ready.map { String($0) },
                platform: Self.platform,
                inputs: InferenceTensorSpec.inputMetadata,
                outputs: InferenceTensorSpec.outputMetadata
            )
        }
        // Started on the I/O thread, as Recommend is: a cheap model's answer never leaves it.
        router.registerUnary(
            GRPCInferenceServiceMethods.modelInfer,
            inlineFirst: { (request: ModelInferRequest, context) throws(RPCError) in
                try startInfer(request, context: context)
            }
        )
    }

    func startInfer(
        _ request: ModelInferRequest,
        context: ServerContext
    ) throws(RPCError) -> UnaryOutcome<ModelInferResponse> {
        guard !request.modelName.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "model_name is required")
        }
        let query = try InferenceQuery(request)
        let selector = try Self.version(request.modelVersion).map { VersionSelector(number: $0) }
        return try source.startServing(request.modelName, selector, context: context) { served in
            let model = served.recommender
            let results: [[Recommendation]]
            switch query.subject {
            // As aimass.v1.Recommend serves them: a user unknown to the version is a cold start, not an error.
            case .users(let users):
                results = try users.map { try model.serve(user: $0, k: query.k, excludeSeen: query.excludeSeen).items }
            case .seedItems(let items):
                results = [try model.serve(seedItems: items, k: query.k, excludeSeen: query.excludeSeen).items]
            }
            return query.response(
                results,
                model: request.modelName,
                version: String(served.servedBy.version),
                id: request.id
            )
        }
    }

    private func authorize(_ model: String, _ context: ServerContext) async throws {
        guard !model.isEmpty else { throw RPCError(code: .invalidArgument, message: "name is required") }
        try await models.authorize(model, context)
    }

    /// A version as the protocol gives it: empty for the newest ready one, else a version number.
    static func version(_ text: String) throws(RPCError) -> UInt32? {
        guard !text.isEmpty else { return nil }
        guard let number = UInt32(text), number > 0 else {
            throw RPCError(code: .invalidArgument, message: "version must be empty or a version number, got '\(text)'")
        }
        return number
    }
}
