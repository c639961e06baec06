import AIMassAPI
import Logging
import MeshCore
import ModelRegistry
import RPCCore
import RecommendCore

/// `aimass.v1.ModelRegistry` over the ``ModelRegistry`` core: every RPC of `proto/aimass/v1/registry.proto`.
///
/// Every call authenticates its bearer token (``ModelRegistry/principal(for:)``); the core checks the role. Core
/// calls are synchronous SQLite and file work; handlers run on the Swift concurrency pool, not on I/O threads, so
/// they call the core directly. Core errors become gRPC statuses through ``RegistryError/rpcError``.
///
/// Files: models here; versions, upload and download in `RegistryService+Versions.swift`; aliases and
/// permissions in `RegistryService+Access.swift`; message conversions in `RegistryConversions.swift`.
public struct RegistryService: RPCService {
    /// The gRPC service name.
    public static let serviceName = ModelRegistryMethods.serviceName
    /// Bytes per `DownloadVersion` chunk.
    public static let downloadChunkSize = 64 * 1024

    /// Called after an alias was created, moved or (version 0) deleted: model, alias, new version.
    public typealias AliasHook = @Sendable (_ model: String, _ alias: String, _ version: UInt32) -> Void

    /// What uses a version (for example "deployment movies@2"), or nil: model, version number (0: any version).
    public typealias VersionUseHook = @Sendable (_ model: String, _ version: UInt32) -> String?

    /// Called with what the pool's watchers are told about the registry: a version published, an alias moved.
    public typealias MeshEventHook = @Sendable (_ payload: MeshCore.MeshEvent.Payload) -> Void

    let registry: ModelRegistry
    let logger: Logger
    let onAliasMoved: AliasHook?
    let versionInUse: VersionUseHook?
    let onMeshEvent: MeshEventHook?

    /// Creates the service; `onAliasMoved` lets the scheduler roll deployments that follow a moved alias, and
    /// `versionInUse` lets it refuse `DeleteVersion` of a version a deployment serves; `onMeshEvent` tells
    /// `Mesh/Watch` subscribers of published versions and alias moves.
    public init(
        registry: ModelRegistry,
        logger: Logger,
        versionInUse: VersionUseHook? = nil,
        onMeshEvent: MeshEventHook? = nil,
        onAliasMoved: AliasHook? = nil
    ) {
        self.onMeshEvent = onMeshEvent
        self.registry = registry
        self.logger = logger
        self.onAliasMoved = onAliasMoved
        self.versionInUse = versionInUse
    }

    public func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(ModelRegistryMethods.createModel) { (request: CreateModelRequest, context) in
            try self.createModel(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.getModel) { (request: GetModelRequest, context) in
            try self.getModel(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.listModels) { (request: ListModelsRequest, context) in
            try self.listModels(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.updateModel) { (request: UpdateModelRequest, context) in
            try self.updateModel(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.deleteModel) { (request: DeleteModelRequest, context) in
            try self.deleteModel(request, context: context)
        }
        self.registerVersionMethods(with: &router)
        self.registerAccessMethods(with: &router)
    }

    // MARK: Models

    func createModel(_ request: CreateModelRequest, context: ServerContext) throws -> AIMassAPI.Model {
        let principal = try registry.principal(for: context)
        guard let model = request.model else {
            throw RPCError(code: .invalidArgument, message: "CreateModel: `model` is required")
        }
        try Self.validateModelName(model.name)
        try Self.validateDefaultManifest(model.manifest)
        let created = try registry.createModel(
            try RegistryConversions.domainModel(model, author: RegistryConversions.principalString(user: principal.userName)),
            by: principal
        )
        return RegistryConversions.apiModel(created, aliases: [], latestMetrics: [:])
    }

    func getModel(_ request: GetModelRequest, context: ServerContext) throws -> AIMassAPI.Model {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.name, field: "name")
        return try hidingUnreadable(request.name, principal) {
            try self.apiModel(try self.registry.getModel(request.name, by: principal), principal: principal)
        }
    }

    func listModels(_ request: ListModelsRequest, context: ServerContext) throws -> ListModelsResponse {
        let principal = try registry.principal(for: context)
        let filter = ModelFilter(
            tag: request.tag.isEmpty ? nil : request.tag,
            author: request.author.isEmpty ? nil : request.author,
            namePrefix: request.namePrefix.isEmpty ? nil : request.namePrefix
        )
        let page = try registry.listModels(
            filter: filter,
            pageSize: RegistryConversions.pageSize(request.pageSize),
            pageToken: request.pageToken.isEmpty ? nil : request.pageToken,
            by: principal
        )
        return ListModelsResponse(
            models: try page.models.map { try self.apiModel($0, principal: principal) },
            nextPageToken: page.nextPageToken ?? ""
        )
    }

    func updateModel(_ request: UpdateModelRequest, context: ServerContext) throws -> AIMassAPI.Model {
        let principal = try registry.principal(for: context)
        guard let model = request.model else {
            throw RPCError(code: .invalidArgument, message: "UpdateModel: `model` is required")
        }
        try Self.requireName(model.name, field: "model.name")
        let mask = try RegistryConversions.fieldMask(request.updateMask)
        if mask.contains("manifest") || mask.contains("*") {
            try Self.validateDefaultManifest(model.manifest)
        }
        return try hidingUnreadable(model.name, principal) {
            let updated = try self.registry.updateModel(
                model.name,
                with: try RegistryConversions.domainModel(model),
                fieldMask: mask,
                by: principal
            )
            return try self.apiModel(updated, principal: principal)
        }
    }

    func deleteModel(_ request: DeleteModelRequest, context: ServerContext) throws -> DeleteModelResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.name, field: "name")
        try hidingUnreadable(request.name, principal) {
            // The owner's check first, so that only an owner learns whether the model is deployed.
            try self.registry.checkRole(principal, model: request.name, required: .owner)
            if let user = self.versionInUse?(request.name, 0) {
                throw RPCError(
                    code: .failedPrecondition,
                    message: "model '\(request.name)' still has \(user): undeploy it first; nothing deleted")
            }
            try self.registry.deleteModel(request.name, by: principal)
        }
        return DeleteModelResponse()
    }

    // MARK: Helpers

    /// The API model with its aliases and the metrics of its latest version.
    func apiModel(_ model: DomainModel, principal: Principal) throws -> AIMassAPI.Model {
        let aliases = try registry.listAliases(model: model.name, by: principal)
        var metrics: [String: Double] = [:]
        if let latest = model.latestVersion {
            metrics = try registry.getVersion(model: model.name, .number(latest), by: principal).metrics
        }
        var api = RegistryConversions.apiModel(model, aliases: aliases, latestMetrics: metrics)
        api.aliasSplits = try registry.aliasSplits(model: model.name, by: principal).map(RegistryConversions.aliasSplit)
        return api
    }

    /// Runs `body`; a `PERMISSION_DENIED` for a caller with no role at all on the model becomes `NOT_FOUND`, as
    /// registry.proto asks (a model the caller cannot read is not revealed).
    func hidingUnreadable<T>(_ model: String, _ principal: Principal, _ body: () throws -> T) throws -> T {
        try registry.hidingUnreadable(model, principal, body)
    }

    /// A version's effective manifest (the model's default merged with the upload header's keys) must be a
    /// recommendation manifest the replicas can load (``Manifest/init(values:)``), so a bad one fails at upload
    /// with `INVALID_ARGUMENT` naming the key and what it allows, not later at Recommend, Evaluate or replica load.
    static func validateManifest(_ values: [String: String], model: String) throws(RPCError) {
        do {
            _ = try Manifest(values: values)
        } catch {
            throw RPCError(code: .invalidArgument, message: "UploadVersion to model '\(model)': \(error.message); nothing stored")
        }
    }

    /// A model's default manifest may leave keys (`algorithm` too) to its versions, but every key it sets must be
    /// known and every value allowed (``Manifest/check(partial:)``).
    static func validateDefaultManifest(_ values: [String: String]) throws(RPCError) {
        do {
            try Manifest.check(partial: values)
        } catch {
            throw RPCError(code: .invalidArgument, message: "model.manifest: \(error.message)")
        }
    }

    static func requireName(_ name: String, field: String) throws(RPCError) {
        guard !name.isEmpty else { throw RPCError(code: .invalidArgument, message: "`\(field)` is required") }
    }

    /// The proto's rule for new names: 1–64 characters of `[A-Za-z0-9._-]`, starting with a letter or digit (the
    /// core accepts up to 128 and checks the characters itself).
    static func validateModelName(_ name: String) throws(RPCError) {
        try requireName(name, field: "model.name")
        guard name.utf8.count <= 64 else {
            throw RPCError(code: .invalidArgument, message: "model name must be 1–64 characters, got \(name.utf8.count)")
        }
        guard let first = name.unicodeScalars.first, first.isASCII,
            ("a"..."z").contains(first) || ("A"..."Z").contains(first) || ("0"..."9").contains(first)
        else {
            throw RPCError(code: .invalidArgument, message: "model name '\(name)' must start with a letter or digit")
        }
    }
}
