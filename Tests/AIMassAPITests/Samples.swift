@testable import AIMassAPI

/// One value of every message with every field set to something other than its default.
enum Samples {
    static let versionSelector: VersionSelector = VersionSelector(
        number: 469,
        alias: "VersionSelector.alias-0"
    )
    static let schemaField: SchemaField = SchemaField(
        name: "SchemaField.name-0",
        type: "SchemaField.type-0",
        description: "SchemaField.description-0"
    )
    static let resources: Resources = Resources(
        cpuMillis: -5100000000000,
        memoryBytes: 1700000019000
    )
    static let model: Model = Model(
        name: "Model.name-0",
        description: "Model.description-0",
        createdAtMs: 1700000055000,
        updatedAtMs: 1700000070000,
        latestVersion: 294,
        author: "Model.author-0",
        tags: ["Model.tags-0", "Model.tags-1-é"],
        inputSchema: [Samples.schemaField, SchemaField()],
        outputSchema: [Samples.schemaField, SchemaField()],
        metrics: ["metrics.k0": 89.25, "metrics.k1": 89.26, "metrics.k2": 89.27],
        dependencies: ["Model.dependencies-0", "Model.dependencies-1-é"],
        sizeBytes: 1700000059000,
        intendedUse: "Model.intended_use-0",
        annotations: ["annotations.k0": "Model.annotations-0", "annotations.k1": "Model.annotations-1-é", "annotations.k2": "Model.annotations-2"],
        manifest: ["manifest.k0": "Model.manifest-0", "manifest.k1": "Model.manifest-1-é", "manifest.k2": "Model.manifest-2"],
        aliases: ["aliases.k0": 476, "aliases.k1": 477, "aliases.k2": 478]
    )
    static let createModelRequest: CreateModelRequest = CreateModelRequest(
        model: Samples.model
    )
    static let getModelRequest: GetModelRequest = GetModelRequest(
        name: "GetModelRequest.name-0"
    )
    static let deleteModelRequest: DeleteModelRequest = DeleteModelRequest(
        name: "DeleteModelRequest.name-0"
    )
    static let deleteModelResponse: DeleteModelResponse = DeleteModelResponse()
    static let listModelsRequest: ListModelsRequest = ListModelsRequest(
        pageSize: 161,
        pageToken: "ListModelsRequest.page_token-0",
        tag: "ListModelsRequest.tag-0",
        author: "ListModelsRequest.author-0",
        namePrefix: "ListModelsRequest.name_prefix-0"
    )
    static let listModelsResponse: ListModelsResponse = ListModelsResponse(
        models: [Samples.model, Model()],
        nextPageToken: "ListModelsResponse.next_page_token-0"
    )
    static let updateModelRequest: UpdateModelRequest = UpdateModelRequest(
        model: Samples.model,
        updateMask: ["UpdateModelRequest.update_mask-0", "UpdateModelRequest.update_mask-1-é"]
    )
    static let version: Version = Version(
        model: "Version.model-0",
        number: 308,
        createdAtMs: 1700000030000,
        author: "Version.author-0",
        description: "Version.description-0",
        sizeBytes: 1700000034000,
        sha256: "Version.sha256-0",
        manifest: ["manifest.k0": "Version.manifest-0", "manifest.k1": "Version.manifest-1-é", "manifest.k2": "Version.manifest-2"],
        metrics: ["metrics.k0": 64.25, "metrics.k1": 64.26, "metrics.k2": 64.27],
        metricsUpdatedAtMs: 1700000089000,
        dependencies: ["Version.dependencies-0", "Version.dependencies-1-é"],
        inputSchema: [Samples.schemaField, SchemaField()],
        outputSchema: [Samples.schemaField, SchemaField()],
        annotations: ["annotations.k0": "Version.annotations-0", "annotations.k1": "Version.annotations-1-é", "annotations.k2": "Version.annotations-2"],
        aliases: ["Version.aliases-0", "Version.aliases-1-é"]
    )
    static let getVersionRequest: GetVersionRequest = GetVersionRequest(
        model: "GetVersionRequest.model-0",
        version: Samples.versionSelector
    )
    static let listVersionsRequest: ListVersionsRequest = ListVersionsRequest(
        model: "ListVersionsRequest.model-0",
        pageSize: 616,
        pageToken: "ListVersionsRequest.page_token-0"
    )
    static let listVersionsResponse: ListVersionsResponse = ListVersionsResponse(
        versions: [Samples.version, Version()],
        nextPageToken: "ListVersionsResponse.next_page_token-0"
    )
    static let uploadVersionRequest: UploadVersionRequest = UploadVersionRequest(
        part: .header(Samples.versionHeader)
    )
    static let versionHeader: VersionHeader = VersionHeader(
        model: "VersionHeader.model-0",
        description: "VersionHeader.description-0",
        sizeBytes: 1700000079000,
        sha256: "VersionHeader.sha256-0",
        manifest: ["manifest.k0": "VersionHeader.manifest-0", "manifest.k1": "VersionHeader.manifest-1-é", "manifest.k2": "VersionHeader.manifest-2"],
        metrics: ["metrics.k0": 19.25, "metrics.k1": 19.26, "metrics.k2": 19.27],
        dependencies: ["VersionHeader.dependencies-0", "VersionHeader.dependencies-1-é"],
        inputSchema: [Samples.schemaField, SchemaField()],
        outputSchema: [Samples.schemaField, SchemaField()],
        annotations: ["annotations.k0": "VersionHeader.annotations-0", "annotations.k1": "VersionHeader.annotations-1-é", "annotations.k2": "VersionHeader.annotations-2"]
    )
    static let downloadVersionRequest: DownloadVersionRequest = DownloadVersionRequest(
        model: "DownloadVersionRequest.model-0",
        version: Samples.versionSelector,
        offset: -8100000000000
    )
    static let downloadVersionResponse: DownloadVersionResponse = DownloadVersionResponse(
        part: .version(Samples.version)
    )
    static let diffVersionsRequest: DiffVersionsRequest = DiffVersionsRequest(
        model: "DiffVersionsRequest.model-0",
        oldVersion: Samples.versionSelector,
        newVersion: Samples.versionSelector
    )
    static let fieldChange: FieldChange = FieldChange(
        field: "FieldChange.field-0",
        oldValue: "FieldChange.old_value-0",
        newValue: "FieldChange.new_value-0",
        kind: .changed
    )
    static let diffVersionsResponse: DiffVersionsResponse = DiffVersionsResponse(
        model: "DiffVersionsResponse.model-0",
        oldVersion: 224,
        newVersion: 301,
        changes: [Samples.fieldChange, FieldChange()]
    )
    static let setAliasRequest: SetAliasRequest = SetAliasRequest(
        model: "SetAliasRequest.model-0",
        alias: "SetAliasRequest.alias-0",
        version: 434,
        reason: "SetAliasRequest.reason-0"
    )
    static let setAliasResponse: SetAliasResponse = SetAliasResponse(
        change: Samples.aliasChange
    )
    static let aliasChange: AliasChange = AliasChange(
        model: "AliasChange.model-0",
        alias: "AliasChange.alias-0",
        previousVersion: 329,
        version: 343,
        principal: "AliasChange.principal-0",
        changedAtMs: 1700000076000,
        reason: "AliasChange.reason-0"
    )
    static let listAliasHistoryRequest: ListAliasHistoryRequest = ListAliasHistoryRequest(
        model: "ListAliasHistoryRequest.model-0",
        alias: "ListAliasHistoryRequest.alias-0",
        pageSize: 175,
        pageToken: "ListAliasHistoryRequest.page_token-0"
    )
    static let listAliasHistoryResponse: ListAliasHistoryResponse = ListAliasHistoryResponse(
        changes: [Samples.aliasChange, AliasChange()],
        nextPageToken: "ListAliasHistoryResponse.next_page_token-0"
    )
    static let permission: Permission = Permission(
        principal: "Permission.principal-0",
        role: .owner
    )
    static let setPermissionRequest: SetPermissionRequest = SetPermissionRequest(
        model: "SetPermissionRequest.model-0",
        principal: "SetPermissionRequest.principal-0",
        role: .owner
    )
    static let getPermissionsRequest: GetPermissionsRequest = GetPermissionsRequest(
        model: "GetPermissionsRequest.model-0"
    )
    static let permissionsResponse: PermissionsResponse = PermissionsResponse(
        model: "PermissionsResponse.model-0",
        permissions: [Samples.permission, Permission()]
    )
    static let scoredItem: ScoredItem = ScoredItem(
        itemId: "ScoredItem.item_id-0",
        score: 20.25
    )
    static let servedBy: ServedBy = ServedBy(
        workerId: "ServedBy.worker_id-0",
        replicaId: "ServedBy.replica_id-0",
        version: 357
    )
    static let recommendRequest: RecommendRequest = RecommendRequest(
        model: "RecommendRequest.model-0",
        version: Samples.versionSelector,
        userId: "RecommendRequest.user_id-0",
        seedItems: ["RecommendRequest.seed_items-0", "RecommendRequest.seed_items-1-é"],
        k: 469,
        excludeSeen: true
    )
    static let recommendResponse: RecommendResponse = RecommendResponse(
        items: [Samples.scoredItem, ScoredItem()],
        servedBy: Samples.servedBy
    )
    static let similarItemsRequest: SimilarItemsRequest = SimilarItemsRequest(
        model: "SimilarItemsRequest.model-0",
        version: Samples.versionSelector,
        itemId: "SimilarItemsRequest.item_id-0",
        k: 140
    )
    static let similarItemsResponse: SimilarItemsResponse = SimilarItemsResponse(
        items: [Samples.scoredItem, ScoredItem()],
        servedBy: Samples.servedBy
    )
    static let evaluateRequest: EvaluateRequest = EvaluateRequest(
        model: "EvaluateRequest.model-0",
        version: Samples.versionSelector,
        protocol: .holdout8020,
        k: 406,
        seed: 1099511627784,
        dryRun: true
    )
    static let evaluateResponse: EvaluateResponse = EvaluateResponse(
        model: "EvaluateResponse.model-0",
        version: 119,
        metrics: ["metrics.k0": 92.25, "metrics.k1": 92.26, "metrics.k2": 92.27],
        stored: true,
        evaluatedAtMs: 1700000015000
    )
    static let replica: Replica = Replica(
        id: "Replica.id-0",
        deploymentId: "Replica.deployment_id-0",
        model: "Replica.model-0",
        version: 287,
        workerId: "Replica.worker_id-0",
        state: .failed,
        error: "Replica.error-0",
        updatedAtMs: 1700000007000
    )
    static let deployment: Deployment = Deployment(
        id: "Deployment.id-0",
        model: "Deployment.model-0",
        version: Samples.versionSelector,
        resolvedVersion: 49,
        minReplicas: 560,
        maxReplicas: 574,
        desiredReplicas: 294,
        readyReplicas: 133,
        resources: Samples.resources,
        priority: -68000,
        targetConcurrency: 189,
        state: .deleting,
        reason: "Deployment.reason-0",
        replicas: [Samples.replica, Replica()],
        createdAtMs: 1700000075000,
        updatedAtMs: 1700000090000
    )
    static let deployRequest: DeployRequest = DeployRequest(
        model: "DeployRequest.model-0",
        version: Samples.versionSelector,
        minReplicas: 203,
        maxReplicas: 217,
        resources: Samples.resources,
        priority: -17000,
        targetConcurrency: 462
    )
    static let undeployRequest: UndeployRequest = UndeployRequest(
        id: "UndeployRequest.id-0"
    )
    static let getDeploymentRequest: GetDeploymentRequest = GetDeploymentRequest(
        id: "GetDeploymentRequest.id-0"
    )
    static let listDeploymentsRequest: ListDeploymentsRequest = ListDeploymentsRequest(
        model: "ListDeploymentsRequest.model-0",
        pageSize: 301,
        pageToken: "ListDeploymentsRequest.page_token-0"
    )
    static let listDeploymentsResponse: ListDeploymentsResponse = ListDeploymentsResponse(
        deployments: [Samples.deployment, Deployment()],
        nextPageToken: "ListDeploymentsResponse.next_page_token-0"
    )
    static let scaleRequest: ScaleRequest = ScaleRequest(
        id: "ScaleRequest.id-0",
        minReplicas: 532,
        maxReplicas: 546,
        desiredReplicas: 266
    )
    static let getPoolRequest: GetPoolRequest = GetPoolRequest()
    static let getPoolResponse: GetPoolResponse = GetPoolResponse(
        workers: [Samples.worker, Worker()]
    )
    static let capacity: Capacity = Capacity(
        cpuMillis: -9000000000000,
        memoryBytes: 1700000058000,
        replicaSlots: 371
    )
    static let worker: Worker = Worker(
        id: "Worker.id-0",
        address: "Worker.address-0",
        capacity: Samples.capacity,
        allocated: Samples.capacity,
        health: .draining,
        replicas: [Samples.replica, Replica()],
        load: Samples.loadReport,
        joinedAtMs: 1700000007000,
        lastSeenAtMs: 1700000062000,
        cordoned: true,
        drainReason: "Worker.drain_reason-0"
    )
    static let drainWorkerRequest: DrainWorkerRequest = DrainWorkerRequest(
        workerId: "DrainWorkerRequest.worker_id-0",
        reason: "DrainWorkerRequest.reason-0",
        force: true
    )
    static let uncordonWorkerRequest: UncordonWorkerRequest = UncordonWorkerRequest(
        workerId: "UncordonWorkerRequest.worker_id-0"
    )
    static let load: Load = Load(
        replicaId: "Load.replica_id-0",
        inFlight: 525,
        queueDepth: 238,
        servedPerSec: 68.25,
        rejectedPerSec: 77.25,
        latencyEwmaUs: -700000000000,
        utilisation: 62.25
    )
    static let loadReport: LoadReport = LoadReport(
        workerId: "LoadReport.worker_id-0",
        reportedAtMs: 1700000089000,
        total: Samples.load,
        replicas: [Samples.load, Load()]
    )
    static let joinRequest: JoinRequest = JoinRequest(
        payload: .hello(Samples.workerHello)
    )
    static let workerHello: WorkerHello = WorkerHello(
        workerId: "WorkerHello.worker_id-0",
        address: "WorkerHello.address-0",
        capacity: Samples.capacity,
        replicas: [Samples.replicaStatus, ReplicaStatus()]
    )
    static let replicaStatus: ReplicaStatus = ReplicaStatus(
        replicaId: "ReplicaStatus.replica_id-0",
        state: .failed,
        error: "ReplicaStatus.error-0",
        deploymentId: "ReplicaStatus.deployment_id-0",
        version: 7
    )
    static let joinResponse: JoinResponse = JoinResponse(
        payload: .welcome(Samples.welcome)
    )
    static let welcome: Welcome = Welcome(
        workerId: "Welcome.worker_id-0",
        leaseMs: 1700000030000
    )
    static let placeReplica: PlaceReplica = PlaceReplica(
        replicaId: "PlaceReplica.replica_id-0",
        deploymentId: "PlaceReplica.deployment_id-0",
        model: "PlaceReplica.model-0",
        version: 532,
        sha256: "PlaceReplica.sha256-0",
        sizeBytes: 1700000031000,
        manifest: ["manifest.k0": "PlaceReplica.manifest-0", "manifest.k1": "PlaceReplica.manifest-1-é", "manifest.k2": "PlaceReplica.manifest-2"],
        resources: Samples.resources,
        targetConcurrency: 483
    )
    static let removeReplica: RemoveReplica = RemoveReplica(
        replicaId: "RemoveReplica.replica_id-0",
        drain: true
    )
    static let drain: Drain = Drain(
        reason: "Drain.reason-0"
    )
    static let watchRequest: WatchRequest = WatchRequest(
        resumeFromRevision: 1099511627859,
        models: ["WatchRequest.models-0", "WatchRequest.models-1-é"],
        kinds: [.heartbeat, .aliasMoved],
        heartbeatIntervalMs: 406
    )
    static let meshEvent: MeshEvent = MeshEvent(
        revision: 1099511627859,
        occurredAtMs: 1700000056000,
        kind: .heartbeat,
        payload: .snapshot(Samples.snapshot)
    )
    static let snapshot: Snapshot = Snapshot(
        reset: true,
        workers: [Samples.worker, Worker()],
        deployments: [Samples.deployment, Deployment()],
        replicas: [Samples.replica, Replica()]
    )
    static let workerLeft: WorkerLeft = WorkerLeft(
        workerId: "WorkerLeft.worker_id-0",
        reason: "WorkerLeft.reason-0"
    )
    static let healthChanged: HealthChanged = HealthChanged(
        workerId: "HealthChanged.worker_id-0",
        previous: .draining,
        health: .draining,
        reason: "HealthChanged.reason-0"
    )
    static let heartbeat: Heartbeat = Heartbeat()
}
