import AIMassAPI
import ArgumentParser
@preconcurrency import Foundation
import RPCCore
import RPCHTTP2

enum PoolText {
    /// Throws `RESOURCE_EXHAUSTED` with the shortfall when the pool lacks the capacity for some replicas of
    /// `deployment` (`pending_code`): the deployment exists and waits for capacity, but the user asked for
    /// replicas that cannot run now, so the command fails (exit 18) after printing it.
    static func requirePlaceable(_ deployment: Deployment) throws(RPCError) {
        guard deployment.pendingCode == Int32(StatusCode.resourceExhausted.rawValue) else { return }
        throw RPCError(
            code: .resourceExhausted,
            message: "\(deployment.reason) (deployment \(deployment.id) kept \(state(deployment.state)): "
                + "placed when capacity appears; aimass pool shows free capacity)"
        )
    }

    static func state(_ s: DeploymentState) -> String {
        switch s {
        case .unspecified: "UNSPECIFIED"
        case .pending: "PENDING"
        case .progressing: "PROGRESSING"
        case .ready: "READY"
        case .degraded: "DEGRADED"
        case .failed: "FAILED"
        case .deleting: "DELETING"
        }
    }

    static func state(_ s: ReplicaState) -> String {
        switch s {
        case .unspecified: "UNSPECIFIED"
        case .pending: "PENDING"
        case .downloading: "DOWNLOADING"
        case .loading: "LOADING"
        case .ready: "READY"
        case .draining: "DRAINING"
        case .removed: "REMOVED"
        case .failed: "FAILED"
        }
    }

    static func health(_ h: HealthStatus) -> String {
        switch h {
        case .unspecified: "UNSPECIFIED"
        case .serving: "SERVING"
        case .notServing: "NOT_SERVING"
        case .draining: "DRAINING"
        }
    }

    static func replica(_ r: Replica) -> [String: Any] {
        [
            "id": r.id, "deployment_id": r.deploymentId, "model": r.model, "version": r.version, "worker_id": r.workerId,
            "state": state(r.state), "error": r.error, "updated_at_ms": r.updatedAtMs,
        ]
    }

    static func capacity(_ c: Capacity?) -> [String: Any] {
        ["cpu_millis": c?.cpuMillis ?? 0, "memory_bytes": c?.memoryBytes ?? 0, "replica_slots": c?.replicaSlots ?? 0]
    }

    static func deployment(_ d: Deployment) -> [String: Any] {
        [
            "id": d.id, "model": d.model,
            "version": ["number": d.version?.number ?? 0, "alias": d.version?.alias ?? ""],
            "resolved_version": d.resolvedVersion, "min_replicas": d.minReplicas, "max_replicas": d.maxReplicas,
            "desired_replicas": d.desiredReplicas, "ready_replicas": d.readyReplicas,
            "resources": ["cpu_millis": d.resources?.cpuMillis ?? 0, "memory_bytes": d.resources?.memoryBytes ?? 0],
            "priority": d.priority, "target_concurrency": d.targetConcurrency, "state": state(d.state), "reason": d.reason,
            "pending_code": d.pendingCode,
            "replicas": d.replicas.map(replica), "created_at_ms": d.createdAtMs, "updated_at_ms": d.updatedAtMs,
        ]
    }

    static func worker(_ w: Worker) -> [String: Any] {
        var json: [String: Any] = [
            "id": w.id, "address": w.address, "capacity": capacity(w.capacity), "allocated": capacity(w.allocated),
            "health": health(w.health), "replicas": w.replicas.map(replica), "joined_at_ms": w.joinedAtMs,
            "last_seen_at_ms": w.lastSeenAtMs, "utilisation": w.load?.total?.utilisation ?? 0,
            "cordoned": w.cordoned, "drain_reason": w.drainReason,
        ]
        if let load = w.load?.total {
            json["load"] = [
                "in_flight": load.inFlight, "queue_depth": load.queueDepth, "served_per_sec": load.servedPerSec,
                "rejected_per_sec": load.rejectedPerSec, "latency_ewma_us": load.latencyEwmaUs,
            ]
        }
        return json
    }

    static func printWorkers(_ workers: [Worker], json: Bool) {
        if json {
            CLIOutput.printJSON(["workers": workers.map(worker)])
            return
        }
        CLIOutput.printTable(
            ["WORKER", "ADDRESS", "HEALTH", "CPU", "MEMORY", "SLOTS", "UTIL", "REPLICAS"],
            workers.map { w in
                [
                    w.id, w.address, PoolText.health(w.health) + (w.cordoned ? ",CORDONED" : ""),
                    "\(w.allocated?.cpuMillis ?? 0)/\(w.capacity?.cpuMillis ?? 0)m",
                    "\(CLIOutput.bytes(w.allocated?.memoryBytes ?? 0))/\(CLIOutput.bytes(w.capacity?.memoryBytes ?? 0))",
                    "\(w.allocated?.replicaSlots ?? 0)/\(w.capacity?.replicaSlots ?? 0)",
                    String(format: "%.0f%%", (w.load?.total?.utilisation ?? 0) * 100),
                    w.replicas.map { "\($0.id) \(PoolText.state($0.state))" }.joined(separator: ", "),
                ]
            }
        )
    }

    static func printDeployments(_ deployments: [Deployment], json: Bool) {
        if json {
            CLIOutput.printJSON(["deployments": deployments.map(deployment)])
            return
        }
        CLIOutput.printTable(
            ["ID", "VERSION", "READY", "DESIRED", "MIN-MAX", "STATE", "REASON"],
            deployments.map {
                [
                    $0.id, "\($0.resolvedVersion)", "\($0.readyReplicas)", "\($0.desiredReplicas)",
                    "\($0.minReplicas)-\($0.maxReplicas)", state($0.state), $0.reason,
                ]
            }
        )
    }
}

/// `aimass deploy`: keeps a model version running as replicas on the pool.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Deploy a model version (pinned number or followed alias) as replicas on the pool.",
        discussion: """
            Examples:
              aimass deploy --model movies --min 2 --max 4
              aimass deploy --model movies --alias production --cpu-millis 1000 --memory-bytes 1073741824
            """
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "Pin this version number (default: the newest now).") var version: UInt32?
    @Option(help: "Follow this alias as it moves.") var alias: String?
    @Option(help: "Minimum replicas (default 1).") var min: UInt32 = 0
    @Option(help: "Maximum replicas (default: min).") var max: UInt32 = 0
    @Option(name: .customLong("cpu-millis"), help: "CPU per replica (default 500).") var cpuMillis: Int64 = 0
    @Option(name: .customLong("memory-bytes"), help: "Memory per replica (default 512 MiB).") var memoryBytes: Int64 = 0
    @Option(help: "Placement priority (default 0).") var priority: Int32 = 0
    @Option(name: .customLong("target-concurrency"), help: "In-flight calls per replica to aim at (default 4).")
    var targetConcurrency: UInt32 = 0

    func run() async throws {
        if version != nil, alias != nil { CLIOutput.fail("give --version or --alias, not both") }
        let selector: VersionSelector? =
            if let version { VersionSelector(number: version) } else if let alias { VersionSelector(alias: alias) } else { nil }
        let request = DeployRequest(
            model: model, version: selector, minReplicas: min, maxReplicas: max,
            resources: Resources(cpuMillis: cpuMillis, memoryBytes: memoryBytes), priority: priority,
            targetConcurrency: targetConcurrency
        )
        await options.run { client in
            let deployment: Deployment = try await client.unary(SchedulerMethods.deploy, request)
            if options.json { CLIOutput.printJSON(PoolText.deployment(deployment)) } else {
                PoolText.printDeployments([deployment], json: false)
            }
            try PoolText.requirePlaceable(deployment)
        }
    }
}

/// `aimass undeploy`: drains and removes a deployment's replicas.
struct UndeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undeploy", abstract: "Remove a deployment (its replicas drain, then go).",
        discussion: "Example:\n  aimass undeploy movies@production"
    )
    @OptionGroup var options: ClientOptions
    @Argument(help: "The deployment id, MODEL@SELECTOR.") var id: String

    func run() async throws {
        await options.run { client in
            let deployment: Deployment = try await client.unary(SchedulerMethods.undeploy, UndeployRequest(id: id))
            if options.json { CLIOutput.printJSON(PoolText.deployment(deployment)) } else {
                PoolText.printDeployments([deployment], json: false)
            }
        }
    }
}

/// `aimass scale`: changes a deployment's replica bounds or desired count.
struct ScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "Change a deployment's replica bounds or desired count (0 = unchanged).",
        discussion: "Examples:\n  aimass scale movies@3 --replicas 3\n  aimass scale movies@3 --min 2 --max 6"
    )
    @OptionGroup var options: ClientOptions
    @Argument(help: "The deployment id, MODEL@SELECTOR.") var id: String
    @Option(help: "New minimum.") var min: UInt32 = 0
    @Option(help: "New maximum.") var max: UInt32 = 0
    @Option(help: "Replica count to aim at now.") var replicas: UInt32 = 0

    func run() async throws {
        let request = ScaleRequest(id: id, minReplicas: min, maxReplicas: max, desiredReplicas: replicas)
        await options.run { client in
            let deployment: Deployment = try await client.unary(SchedulerMethods.scale, request)
            if options.json { CLIOutput.printJSON(PoolText.deployment(deployment)) } else {
                PoolText.printDeployments([deployment], json: false)
            }
            try PoolText.requirePlaceable(deployment)
        }
    }
}

/// `aimass deployments`: lists deployments.
struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments", abstract: "List deployments with their state and replicas.",
        discussion: "Examples:\n  aimass deployments\n  aimass deployments --model movies --json"
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "Only this model.") var model: String = ""

    func run() async throws {
        await options.run { client in
            var all: [Deployment] = []
            var token = ""
            repeat {
                let page: ListDeploymentsResponse = try await client.unary(
                    SchedulerMethods.listDeployments, ListDeploymentsRequest(model: model, pageSize: 500, pageToken: token)
                )
                all += page.deployments
                token = page.nextPageToken
            } while !token.isEmpty
            PoolText.printDeployments(all, json: options.json)
        }
    }
}

/// `aimass pool`: the workers (`aimass pool` = `aimass pool list`), and draining or uncordoning one.
struct PoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool", abstract: "Show the workers of the pool; drain or uncordon one.",
        discussion: """
            Examples:
              aimass pool
              aimass pool --json | jq '.workers[].replicas'
              aimass pool drain worker-2 --reason "kernel upgrade"
              aimass pool uncordon worker-2
            """,
        subcommands: [PoolListCommand.self, PoolDrainCommand.self, PoolUncordonCommand.self],
        defaultSubcommand: PoolListCommand.self
    )
}

/// `aimass pool list`: the workers, their capacity, allocation, utilisation and replicas.
struct PoolListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Show the workers of the pool with their capacity, allocation and replicas.",
        discussion: "Examples:\n  aimass pool\n  aimass pool list --json | jq '.workers[].replicas'"
    )
    @OptionGroup var options: ClientOptions

    func run() async throws {
        await options.run { client in
            let pool: GetPoolResponse = try await client.unary(SchedulerMethods.getPool, GetPoolRequest())
            PoolText.printWorkers(pool.workers, json: options.json)
        }
    }
}

/// `aimass pool drain`: moves a worker's replicas elsewhere, then tells it to drain.
struct PoolDrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Drain a worker: no new replicas; its replicas move elsewhere first, then it drains.",
        discussion: """
            The worker is cordoned at once. Each replica is re-placed elsewhere
            and stopped only once its replacement is READY; with no room
            elsewhere it stays (`aimass deployments` REASON) unless --force.
            Returns at once: watch `aimass pool` (HEALTH becomes DRAINING once
            no replica is left serving there). Needs an admin token.
            Exit codes: 0 done, 15 NOT_FOUND, 17 PERMISSION_DENIED.
            Examples:
              aimass pool drain worker-2 --reason "kernel upgrade"
              aimass pool drain worker-2 --force --json
            """
    )
    @OptionGroup var options: ClientOptions
    @Argument(help: "The worker id (see `aimass pool`).") var worker: String
    @Option(help: "Why (shown in the pool and the worker's logs).") var reason: String = ""
    @Flag(help: "Stop every replica now, even when no other worker has room for a replacement.") var force = false

    func run() async throws {
        let request = DrainWorkerRequest(workerId: worker, reason: reason, force: force)
        await options.run { client in
            let drained: Worker = try await client.unary(SchedulerMethods.drainWorker, request)
            PoolText.printWorkers([drained], json: options.json)
        }
    }
}

/// `aimass pool uncordon`: undoes `aimass pool drain`.
struct PoolUncordonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uncordon", abstract: "Let a drained (cordoned) worker take new replicas again.",
        discussion: """
            Needs an admin token.
            Exit codes: 0 done, 15 NOT_FOUND, 17 PERMISSION_DENIED.
            Example:
              aimass pool uncordon worker-2
            """
    )
    @OptionGroup var options: ClientOptions
    @Argument(help: "The worker id (see `aimass pool`).") var worker: String

    func run() async throws {
        await options.run { client in
            let worker: Worker = try await client.unary(SchedulerMethods.uncordonWorker, UncordonWorkerRequest(workerId: worker))
            PoolText.printWorkers([worker], json: options.json)
        }
    }
}
