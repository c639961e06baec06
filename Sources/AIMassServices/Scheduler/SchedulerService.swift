import AIMassAPI
import Logging
import ModelRegistry
import RPCCore
import SchedulerCore

/// `aimass.v1.Scheduler` over a ``SchedulerController``: deployments, the pool, and the workers' Join stream.
///
/// Access follows `scheduler.proto`: Deploy, Undeploy and Scale need WRITER on the model; GetDeployment and
/// ListDeployments need READER (deployments of models the caller cannot read are NOT_FOUND / left out); GetPool
/// needs any authenticated caller; DrainWorker, UncordonWorker and Join need an admin token (the platform's workers
/// run with one).
///
/// Deploy resolves the version or alias through the registry. A deployment that cannot be placed is not an
/// error: it is returned PENDING (or DEGRADED) with the shortfall in `reason`, as the proto specifies.
public struct SchedulerService: RPCService {
    /// The gRPC service name.
    public static let serviceName = SchedulerMethods.serviceName

    let registry: ModelRegistry
    let controller: SchedulerController
    let logger: Logger

    /// Creates the service.
    public init(registry: ModelRegistry, controller: SchedulerController, logger: Logger = Logger(label: "aimass.scheduler")) {
        self.registry = registry
        self.controller = controller
        self.logger = logger
    }

    public func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(SchedulerMethods.deploy) { (request: DeployRequest, context) in
            try deploy(request, context: context)
        }
        router.registerUnary(SchedulerMethods.undeploy) { (request: UndeployRequest, context) in
            let (principal, deployment) = try visible(request.id, context: context)
            try registry.checkRole(principal, model: deployment.spec.model, required: .writer)
            return controller.apiDeployment(try controller.undeploy(deployment.spec.id))
        }
        router.registerUnary(SchedulerMethods.getDeployment) { (request: GetDeploymentRequest, context) in
            controller.apiDeployment(try visible(request.id, context: context).1)
        }
        router.registerUnary(SchedulerMethods.listDeployments) { (request: ListDeploymentsRequest, context) in
            try listDeployments(request, context: context)
        }
        router.registerUnary(SchedulerMethods.scale) { (request: ScaleRequest, context) in
            let (principal, deployment) = try visible(request.id, context: context)
            try registry.checkRole(principal, model: deployment.spec.model, required: .writer)
            func field(_ value: UInt32) -> Int? { value == 0 ? nil : Int(value) }
            let scaled = try controller.scale(
                deployment.spec.id, min: field(request.minReplicas), max: field(request.maxReplicas),
                desired: field(request.desiredReplicas)
            )
            return controller.apiDeployment(scaled)
        }
        router.registerUnary(SchedulerMethods.getPool) { (_: GetPoolRequest, context) in
            _ = try registry.principal(for: context)
            return GetPoolResponse(workers: controller.pool)
        }
        router.registerUnary(SchedulerMethods.drainWorker) { (request: DrainWorkerRequest, context) in
            let id = try workerID(request.workerId, admin: "drain", context: context)
            return try controller.drain(id, reason: request.reason, force: request.force)
        }
        router.registerUnary(SchedulerMethods.uncordonWorker) { (request: UncordonWorkerRequest, context) in
            try controller.uncordon(try workerID(request.workerId, admin: "uncordon", context: context))
        }
        router.registerBidirectionalStreaming(SchedulerMethods.join) {
            (requests: RPCRequestStream<JoinRequest>, writer: RPCWriter<JoinResponse>, context) in
            try await join(requests, writer: writer, context: context)
        }
    }

    // MARK: Deployments

    func deploy(_ request: DeployRequest, context: ServerContext) throws -> AIMassAPI.Deployment {
        let principal = try registry.principal(for: context)
        guard !request.model.isEmpty else { throw RPCError(code: .invalidArgument, message: "model is required") }
        let reference = try request.version.reference()
        try registry.checkRole(principal, model: request.model, required: .writer)
        let version = try registry.getVersion(model: request.model, reference, by: principal)
        let number = UInt32(clamping: version.number)
        let alias = request.version?.alias ?? ""
        let selector = alias.isEmpty ? AIMassAPI.VersionSelector(number: number) : AIMassAPI.VersionSelector(alias: alias)
        let minReplicas = request.minReplicas == 0 ? 1 : Int(request.minReplicas)
        let maxReplicas = request.maxReplicas == 0 ? minReplicas : Int(request.maxReplicas)
        var resources = SchedulerCore.Resources.defaults
        if let asked = request.resources {
            guard asked.cpuMillis >= 0, asked.memoryBytes >= 0 else {
                throw RPCError(code: .invalidArgument, message: "resources must not be negative")
            }
            if asked.cpuMillis > 0 { resources.cpuMillis = asked.cpuMillis }
            if asked.memoryBytes > 0 { resources.memoryBytes = asked.memoryBytes }
        }
        let spec = DeploymentSpec(
            id: DeploymentID("\(request.model)@\(alias.isEmpty ? String(number) : alias)"),
            model: request.model, version: number, minReplicas: minReplicas, maxReplicas: maxReplicas,
            resources: resources, priority: Int(request.priority),
            targetConcurrency: request.targetConcurrency == 0 ? 4 : Int(request.targetConcurrency)
        )
        let artifact = SchedulerController.ArtifactInfo(
            sha256: version.sha256, sizeBytes: version.sizeBytes, manifest: version.manifest
        )
        let deployment = try controller.deploy(spec, selector: selector, artifact: artifact)
        logger.info(
            "deployed",
            metadata: ["deployment": "\(spec.id)", "version": "\(number)", "state": "\(deployment.state)", "by": "\(principal.userName)"]
        )
        return controller.apiDeployment(deployment)
    }

    /// The worker id of a DrainWorker/UncordonWorker request, once the caller is known to be an admin.
    func workerID(_ id: String, admin action: String, context: ServerContext) throws -> WorkerID {
        let principal = try registry.principal(for: context)
        guard principal.isAdmin else {
            throw RPCError(code: .permissionDenied, message: "\(principal) may not \(action) workers: it needs an admin token")
        }
        guard !id.isEmpty else { throw RPCError(code: .invalidArgument, message: "worker_id is required") }
        return WorkerID(id)
    }

    /// The caller and the deployment, if the caller may read its model (otherwise NOT_FOUND, as for no deployment).
    func visible(_ id: String, context: ServerContext) throws -> (Principal, SchedulerCore.Deployment) {
        let principal = try registry.principal(for: context)
        guard !id.isEmpty else { throw RPCError(code: .invalidArgument, message: "id is required") }
        guard let deployment = controller.deployment(DeploymentID(id)), canRead(principal, deployment.spec.model) else {
            throw RPCError(code: .notFound, message: "deployment '\(id)' not found")
        }
        return (principal, deployment)
    }

    func canRead(_ principal: Principal, _ model: String) -> Bool {
        guard let role = try? registry.role(of: principal, model: model) else { return false }
        return role >= .reader
    }

    func listDeployments(_ request: ListDeploymentsRequest, context: ServerContext) throws -> ListDeploymentsResponse {
        let principal = try registry.principal(for: context)
        let pageSize = request.pageSize == 0 ? 50 : min(Int(request.pageSize), 500)
        var after: String?
        if !request.pageToken.isEmpty {
            guard request.pageToken.hasPrefix("d:"), request.pageToken.count > 2 else {
                throw RPCError(code: .invalidArgument, message: "page_token is not one this server issued")
            }
            after = String(request.pageToken.dropFirst(2))
        }
        var readable: [String: Bool] = [:]
        let all = controller.deployments.filter { deployment in
            let model = deployment.spec.model
            if !request.model.isEmpty, model != request.model { return false }
            if let after, deployment.spec.id.rawValue <= after { return false }
            if let known = readable[model] { return known }
            let allowed = canRead(principal, model)
            readable[model] = allowed
            return allowed
        }
        let page = all.prefix(pageSize)
        let next = all.count > pageSize ? page.last.map { "d:\($0.spec.id.rawValue)" } ?? "" : ""
        return ListDeploymentsResponse(deployments: page.map(controller.apiDeployment), nextPageToken: next)
    }
}
