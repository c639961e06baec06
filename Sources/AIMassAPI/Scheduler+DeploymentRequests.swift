import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/scheduler.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.DeployRequest`: Request of Scheduler.Deploy.
public struct DeployRequest: WireMessage, Hashable {
    public var model: String
    public var version: VersionSelector?
    public var minReplicas: UInt32
    public var maxReplicas: UInt32
    public var resources: Resources?
    public var priority: Int32
    public var targetConcurrency: UInt32

    public init(
        model: String = "",
        version: VersionSelector? = nil,
        minReplicas: UInt32 = 0,
        maxReplicas: UInt32 = 0,
        resources: Resources? = nil,
        priority: Int32 = 0,
        targetConcurrency: UInt32 = 0
    ) {
        self.model = model
        self.version = version
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.resources = resources
        self.priority = priority
        self.targetConcurrency = targetConcurrency
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DeployRequest",
            unpack: aimass__v1__deploy_request__unpack,
            free: aimass__v1__deploy_request__free_unpacked
        ) { c in DeployRequest(c: c) }
    }

    init(c: Aimass__V1__DeployRequest) {
        model = ProtobufC.string(c.model)
        version = c.version.map { VersionSelector(c: $0.pointee) }
        minReplicas = c.min_replicas
        maxReplicas = c.max_replicas
        resources = c.resources.map { Resources(c: $0.pointee) }
        priority = c.priority
        targetConcurrency = c.target_concurrency
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DeployRequest {
        var message = Aimass__V1__DeployRequest()
        aimass__v1__deploy_request__init(&message)
        message.model = arena.string(model)
        message.version = version.map { arena.box($0.cStruct(arena)) }
        message.min_replicas = minReplicas
        message.max_replicas = maxReplicas
        message.resources = resources.map { arena.box($0.cStruct(arena)) }
        message.priority = priority
        message.target_concurrency = targetConcurrency
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.UndeployRequest`: Request of Scheduler.Undeploy.
public struct UndeployRequest: WireMessage, Hashable {
    public var id: String

    public init(
        id: String = ""
    ) {
        self.id = id
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "UndeployRequest",
            unpack: aimass__v1__undeploy_request__unpack,
            free: aimass__v1__undeploy_request__free_unpacked
        ) { c in UndeployRequest(c: c) }
    }

    init(c: Aimass__V1__UndeployRequest) {
        id = ProtobufC.string(c.id)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__UndeployRequest {
        var message = Aimass__V1__UndeployRequest()
        aimass__v1__undeploy_request__init(&message)
        message.id = arena.string(id)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.GetDeploymentRequest`: Request of Scheduler.GetDeployment.
public struct GetDeploymentRequest: WireMessage, Hashable {
    public var id: String

    public init(
        id: String = ""
    ) {
        self.id = id
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "GetDeploymentRequest",
            unpack: aimass__v1__get_deployment_request__unpack,
            free: aimass__v1__get_deployment_request__free_unpacked
        ) { c in GetDeploymentRequest(c: c) }
    }

    init(c: Aimass__V1__GetDeploymentRequest) {
        id = ProtobufC.string(c.id)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__GetDeploymentRequest {
        var message = Aimass__V1__GetDeploymentRequest()
        aimass__v1__get_deployment_request__init(&message)
        message.id = arena.string(id)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ListDeploymentsRequest`: Request of Scheduler.ListDeployments.
public struct ListDeploymentsRequest: WireMessage, Hashable {
    public var model: String
    public var pageSize: UInt32
    public var pageToken: String

    public init(
        model: String = "",
        pageSize: UInt32 = 0,
        pageToken: String = ""
    ) {
        self.model = model
        self.pageSize = pageSize
        self.pageToken = pageToken
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListDeploymentsRequest",
            unpack: aimass__v1__list_deployments_request__unpack,
            free: aimass__v1__list_deployments_request__free_unpacked
        ) { c in ListDeploymentsRequest(c: c) }
    }

    init(c: Aimass__V1__ListDeploymentsRequest) {
        model = ProtobufC.string(c.model)
        pageSize = c.page_size
        pageToken = ProtobufC.string(c.page_token)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListDeploymentsRequest {
        var message = Aimass__V1__ListDeploymentsRequest()
        aimass__v1__list_deployments_request__init(&message)
        message.model = arena.string(model)
        message.page_size = pageSize
        message.page_token = arena.string(pageToken)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ListDeploymentsResponse`: One page of Scheduler.ListDeployments.
public struct ListDeploymentsResponse: WireMessage, Hashable {
    public var deployments: [Deployment]
    public var nextPageToken: String

    public init(
        deployments: [Deployment] = [],
        nextPageToken: String = ""
    ) {
        self.deployments = deployments
        self.nextPageToken = nextPageToken
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListDeploymentsResponse",
            unpack: aimass__v1__list_deployments_response__unpack,
            free: aimass__v1__list_deployments_response__free_unpacked
        ) { c in ListDeploymentsResponse(c: c) }
    }

    init(c: Aimass__V1__ListDeploymentsResponse) {
        deployments = cMessages(c.deployments, count: c.n_deployments) { Deployment(c: $0) }
        nextPageToken = ProtobufC.string(c.next_page_token)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListDeploymentsResponse {
        var message = Aimass__V1__ListDeploymentsResponse()
        aimass__v1__list_deployments_response__init(&message)
        message.n_deployments = deployments.count
        message.deployments = arena.messages(deployments.map { $0.cStruct(arena) })
        message.next_page_token = arena.string(nextPageToken)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ScaleRequest`: Every field except `id` is optional with 0 = leave unchanged (a replica count of 0
/// is never valid, so there is no ambiguity).
public struct ScaleRequest: WireMessage, Hashable {
    public var id: String
    public var minReplicas: UInt32
    public var maxReplicas: UInt32
    public var desiredReplicas: UInt32

    public init(
        id: String = "",
        minReplicas: UInt32 = 0,
        maxReplicas: UInt32 = 0,
        desiredReplicas: UInt32 = 0
    ) {
        self.id = id
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.desiredReplicas = desiredReplicas
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ScaleRequest",
            unpack: aimass__v1__scale_request__unpack,
            free: aimass__v1__scale_request__free_unpacked
        ) { c in ScaleRequest(c: c) }
    }

    init(c: Aimass__V1__ScaleRequest) {
        id = ProtobufC.string(c.id)
        minReplicas = c.min_replicas
        maxReplicas = c.max_replicas
        desiredReplicas = c.desired_replicas
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ScaleRequest {
        var message = Aimass__V1__ScaleRequest()
        aimass__v1__scale_request__init(&message)
        message.id = arena.string(id)
        message.min_replicas = minReplicas
        message.max_replicas = maxReplicas
        message.desired_replicas = desiredReplicas
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
