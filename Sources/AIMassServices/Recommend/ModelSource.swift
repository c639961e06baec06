import AIMassAPI
import Foundation
import ModelRegistry
import RPCCore
import RecommendCore

/// A recommender ready to answer one call, and who answers it.
public struct ServedModel: Sendable {
    /// The built model.
    public var recommender: Recommender
    /// The worker, replica and version that serve the call (sent back in `served_by`).
    public var servedBy: ServedBy

    /// Creates a served model.
    public init(recommender: Recommender, servedBy: ServedBy) {
        self.recommender = recommender
        self.servedBy = servedBy
    }
}

/// Where ``RecommendService`` gets the model that serves a call.
///
/// Implementations authorize the caller (READER on the model), pick or load the model, and may wrap the call in
/// overload protection; `body` runs the query: synchronous model work, which they run on an
/// ``InferenceExecutor`` thread rather than on the Swift cooperative pool.
public protocol ModelSource: Sendable {
    /// Runs `body` with the model that serves `model` at `selector` for this call.
    ///
    /// - Throws: ``RPCError`` (`NOT_FOUND`, `PERMISSION_DENIED`, `UNAUTHENTICATED`, `UNAVAILABLE` when nothing
    ///   serves the model here, `RESOURCE_EXHAUSTED` when shed, `CANCELLED` or `DEADLINE_EXCEEDED` when the call
    ///   ended while waiting for an inference thread) or whatever `body` throws.
    func withModel<T: Sendable>(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) async throws -> T

    /// Starts a call on the connection's I/O thread: answers it there when that needs no waiting (the caller's
    /// access and the version already known, a cheap model admitted at once), else returns the rest of the call as
    /// ``UnaryOutcome/continueAsync(_:)``. Must never block.
    ///
    /// The default continues every call with ``withModel(_:_:context:_:)``.
    func startServing<T: Sendable>(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) throws(RPCError) -> UnaryOutcome<T>
}

extension ModelSource {
    public func startServing<T: Sendable>(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) throws(RPCError) -> UnaryOutcome<T> {
        .continueAsync { try await withModel(model, selector, context: context, body) }
    }
}

/// The lazy loader of the embedded process: a version is read from the registry and built on its first call,
/// then kept in a ``LoadedModelCache`` (no deployment needed; no admission control). Queries run on `executor`
/// (inline for a version whose measured service time is under its ``InferenceExecutor/inlineThreshold``).
public struct RegistryModelSource: ModelSource {
    let registry: ModelRegistry
    let cache: LoadedModelCache
    let workerID: String
    let executor: InferenceExecutor
    let serviceTimes = ServiceTimeEstimates()

    /// Creates the source over a registry.
    public init(
        registry: ModelRegistry, cache: LoadedModelCache = LoadedModelCache(), workerID: String = "local",
        executor: InferenceExecutor = .shared
    ) {
        self.registry = registry
        self.cache = cache
        self.workerID = workerID
        self.executor = executor
    }

    public func withModel<T: Sendable>(
        _ model: String,
        _ selector: VersionSelector?,
        context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) async throws -> T {
        guard !model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        let principal = try registry.principal(for: context)
        let version = try registry.getVersion(model: model, try selector.reference(), by: principal)
        let registry = self.registry
        let recommender = try await cache.recommender(for: version) {
            try RecommenderBuilder.build(version: version, registry: registry, principal: principal)
        }
        let servedBy = ServedBy(
            workerId: workerID, replicaId: "\(workerID)/\(version.model)@\(version.number)", version: UInt32(version.number)
        )
        let served = ServedModel(recommender: recommender, servedBy: servedBy)
        let estimate = serviceTimes.estimate(for: servedBy.replicaId)
        return try await executor.run(deadline: context.deadline, measuring: estimate) { try body(served) }.0
    }
}

/// Builds recommenders from artifact bytes and manifests (the registry's lazy path and the workers' replicas).
public enum RecommenderBuilder {
    /// Parses a manifest map (`algorithm`, `neighbours`, ...).
    ///
    /// - Throws: ``RPCError`` `FAILED_PRECONDITION` when it is not a valid recommendation manifest.
    public static func manifest(_ values: [String: String], model: String, version: Int) throws(RPCError) -> Manifest {
        do {
            return try Manifest(values: values)
        } catch {
            throw RPCError(
                code: .failedPrecondition,
                message: "version \(version) of model '\(model)' has no valid recommendation manifest: \(error.message)"
            )
        }
    }

    /// Builds the recommender of an artifact (an interactions table, or a sectioned file with attributes: ``ModelInputs``)
    /// with its manifest.
    ///
    /// - Throws: ``RPCError`` `FAILED_PRECONDITION` when the artifact or manifest cannot be loaded.
    public static func build(bytes: [UInt8], manifest values: [String: String], model: String, version: Int) throws -> Recommender {
        let parsed = try Self.manifest(values, model: model, version: version)
        let inputs: ModelInputs
        do {
            inputs = try ModelInputs(parsing: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw RPCError(
                code: .failedPrecondition,
                message: "version \(version) of model '\(model)' cannot be loaded: \(error.message)"
            )
        }
        return try Recommender(inputs: inputs, manifest: parsed)
    }

    /// Reads a registry version's artifact and builds its recommender.
    static func build(version: ModelVersion, registry: ModelRegistry, principal: Principal) throws -> Recommender {
        let (inputs, manifest) = try inputs(version: version, registry: registry, principal: principal)
        return try Recommender(inputs: inputs, manifest: manifest)
    }

    /// Reads a registry version's interactions and manifest.
    static func inputs(
        version: ModelVersion,
        registry: ModelRegistry,
        principal: Principal
    ) throws -> (ModelInputs, Manifest) {
        let parsed = try Self.manifest(version.manifest, model: version.model, version: version.number)
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
            return (try ModelInputs(parsing: String(decoding: bytes, as: UTF8.self)), parsed)
        } catch {
            throw RPCError(
                code: .failedPrecondition,
                message: "version \(version.number) of model '\(version.model)' cannot be loaded: \(error.message)"
            )
        }
    }
}
