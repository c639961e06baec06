import AIMassAPI
import Hummingbird
import RPCCore

/// `/api/deployments…`, `/api/pool`, `/api/workers…`: the Scheduler calls of the console.
enum PoolRoutes {
    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        let methods = SchedulerMethods.self
        router.get("/api/deployments") { request, _ in
            await answering(g.logger) {
                let message = ListDeploymentsRequest(
                    model: request.query("model"), pageSize: try request.queryInteger("page_size"),
                    pageToken: request.query("page_token"))
                return try await g.unary(methods.listDeployments, message, for: request) { (r: ListDeploymentsResponse) in
                    ["deployments": r.deployments.map(JSONForms.deployment), "next_page_token": r.nextPageToken] as [String: Any]
                }
            }
        }
        // {"model", "version" (number or alias; absent = latest), "min_replicas", "max_replicas", "cpu_millis",
        //  "memory_bytes", "priority", "target_concurrency"}
        router.post("/api/deployments") { request, _ in
            await answering(g.logger) {
                let body = try await request.json()
                let cpu: Int64 = try body.integer("cpu_millis")
                let memory: Int64 = try body.integer("memory_bytes")
                let message = DeployRequest(
                    model: try body.string("model"), version: try body.selector("version"),
                    minReplicas: try body.integer("min_replicas"), maxReplicas: try body.integer("max_replicas"),
                    resources: cpu == 0 && memory == 0 ? nil : Resources(cpuMillis: cpu, memoryBytes: memory),
                    priority: try body.integer("priority"), targetConcurrency: try body.integer("target_concurrency"))
                return try await g.unary(methods.deploy, message, for: request, status: .created, render: JSONForms.deployment)
            }
        }
        router.get("/api/deployments/:id") { request, context in
            await answering(g.logger) {
                try await g.unary(
                    methods.getDeployment, GetDeploymentRequest(id: try context.path("id")), for: request,
                    render: JSONForms.deployment)
            }
        }
        router.delete("/api/deployments/:id") { request, context in
            await answering(g.logger) {
                try await g.unary(
                    methods.undeploy, UndeployRequest(id: try context.path("id")), for: request,
                    render: JSONForms.deployment)
            }
        }
        // {"min_replicas", "max_replicas", "desired_replicas"} (0 = keep, as in ScaleRequest).
        router.post("/api/deployments/:id/scale") { request, context in
            await answering(g.logger) {
                let body = try await request.json()
                let message = ScaleRequest(
                    id: try context.path("id"), minReplicas: try body.integer("min_replicas"),
                    maxReplicas: try body.integer("max_replicas"), desiredReplicas: try body.integer("desired_replicas"))
                return try await g.unary(methods.scale, message, for: request, render: JSONForms.deployment)
            }
        }
        router.get("/api/pool") { request, _ in
            await answering(g.logger) {
                try await g.unary(methods.getPool, GetPoolRequest(), for: request) { (r: GetPoolResponse) in
                    ["workers": r.workers.map(JSONForms.worker)] as [String: Any]
                }
            }
        }
        // {"reason", "force"}
        router.post("/api/workers/:id/drain") { request, context in
            await answering(g.logger) {
                let body = try await request.json()
                let message = DrainWorkerRequest(
                    workerId: try context.path("id"), reason: try body.string("reason"), force: try body.bool("force"))
                return try await g.unary(methods.drainWorker, message, for: request, render: JSONForms.worker)
            }
        }
        router.post("/api/workers/:id/uncordon") { request, context in
            await answering(g.logger) {
                try await g.unary(
                    methods.uncordonWorker, UncordonWorkerRequest(workerId: try context.path("id")), for: request,
                    render: JSONForms.worker)
            }
        }
    }
}

/// `/api/recommend`, `/api/similar`, `/api/evaluate`: the Recommend calls ("try it" and metrics).
enum RecommendRoutes {
    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        let methods = RecommendMethods.self
        // {"model", "version", "user_id" | "seed_items", "k", "include_seen"}
        router.post("/api/recommend") { request, _ in
            await answering(g.logger) {
                let body = try await request.json()
                let message = RecommendRequest(
                    model: try body.string("model"), version: try body.selector("version"),
                    userId: try body.string("user_id"), seedItems: try body.strings("seed_items"),
                    k: try body.integer("k"), excludeSeen: !(try body.bool("include_seen")))
                return try await g.unary(methods.recommend, message, for: request, via: g.serving) { (r: RecommendResponse) in
                    JSONForms.scored(r.items, servedBy: r.servedBy, path: r.path)
                }
            }
        }
        // {"model", "version", "item_id", "k"}
        router.post("/api/similar") { request, _ in
            await answering(g.logger) {
                let body = try await request.json()
                let message = SimilarItemsRequest(
                    model: try body.string("model"), version: try body.selector("version"),
                    itemId: try body.string("item_id"), k: try body.integer("k"))
                return try await g.unary(methods.similarItems, message, for: request, via: g.serving) { (r: SimilarItemsResponse) in
                    JSONForms.scored(r.items, servedBy: r.servedBy)
                }
            }
        }
        // {"model", "version", "protocol": "LEAVE_LAST_ONE_OUT" | "HOLDOUT_80_20", "k", "dry_run"}
        router.post("/api/evaluate") { request, _ in
            await answering(g.logger) {
                let body = try await request.json()
                let protocolName = try body.string("protocol").uppercased()
                let wanted = protocolName.replacingOccurrences(of: "_", with: "")
                guard let evalProtocol = protocolName.isEmpty
                    ? .unspecified
                    : EvalProtocol.allCases.first(where: { JSONForms.enumName($0).replacingOccurrences(of: "_", with: "") == wanted })
                else {
                    throw RPCError(code: .invalidArgument, message: "field 'protocol' must be LEAVE_LAST_ONE_OUT or HOLDOUT_80_20, got '\(protocolName)'")
                }
                let message = EvaluateRequest(
                    model: try body.string("model"), version: try body.selector("version"), protocol: evalProtocol,
                    k: try body.integer("k"), dryRun: try body.bool("dry_run"))
                return try await g.unary(methods.evaluate, message, for: request, render: JSONForms.evaluation)
            }
        }
    }
}
