import AIMassAPI
import Foundation

/// The JSON forms of the aimass.v1 messages the console uses: field names as spelled in the proto (snake_case),
/// enums as their proto names without the type prefix (`READY`, `NOT_SERVING`), absent sub-messages as `null`.
/// The one place where messages become JSON.
enum JSONForms {
    /// `NOT_SERVING` for `.notServing`: the proto's value name without its enum prefix.
    static func enumName<E: CaseIterable>(_ value: E) -> String {
        var name = ""
        for character in "\(value)" {
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
        return name
    }

    /// A finite number, or `null` (JSON has no NaN or infinity).
    static func number(_ value: Double) -> Any { value.isFinite ? value : NSNull() }

    static func metrics(_ metrics: [String: Double]) -> [String: Any] { metrics.mapValues(number) }

    static func schema(_ fields: [SchemaField]) -> [[String: Any]] {
        fields.map { ["name": $0.name, "type": $0.type, "description": $0.description] }
    }

    static func selector(_ s: VersionSelector?) -> Any {
        guard let s else { return NSNull() }
        return ["number": s.number, "alias": s.alias] as [String: Any]
    }

    // MARK: Registry

    static func model(_ m: AIMassAPI.Model) -> [String: Any] {
        [
            "name": m.name, "description": m.description, "created_at_ms": m.createdAtMs,
            "updated_at_ms": m.updatedAtMs, "latest_version": m.latestVersion, "author": m.author, "tags": m.tags,
            "input_schema": schema(m.inputSchema), "output_schema": schema(m.outputSchema),
            "metrics": metrics(m.metrics), "dependencies": m.dependencies, "size_bytes": m.sizeBytes,
            "intended_use": m.intendedUse, "annotations": m.annotations, "manifest": m.manifest, "aliases": m.aliases,
            "alias_splits": m.aliasSplits.map(aliasSplit),
        ]
    }

    static func aliasSplit(_ s: AliasSplit) -> [String: Any] {
        ["alias": s.alias, "version": s.version, "challenger_version": s.challengerVersion, "percent": s.percent]
    }

    static func version(_ v: Version) -> [String: Any] {
        [
            "model": v.model, "number": v.number, "created_at_ms": v.createdAtMs, "author": v.author,
            "description": v.description, "size_bytes": v.sizeBytes, "sha256": v.sha256, "manifest": v.manifest,
            "metrics": metrics(v.metrics), "metrics_updated_at_ms": v.metricsUpdatedAtMs,
            "dependencies": v.dependencies, "input_schema": schema(v.inputSchema),
            "output_schema": schema(v.outputSchema), "annotations": v.annotations, "aliases": v.aliases,
        ]
    }

    static func diff(_ d: DiffVersionsResponse) -> [String: Any] {
        [
            "model": d.model, "old_version": d.oldVersion, "new_version": d.newVersion,
            "changes": d.changes.map { c -> [String: Any] in
                ["field": c.field, "old_value": c.oldValue, "new_value": c.newValue, "kind": enumName(c.kind)]
            },
        ]
    }

    static func aliasChange(_ c: AliasChange) -> [String: Any] {
        [
            "model": c.model, "alias": c.alias, "previous_version": c.previousVersion, "version": c.version,
            "principal": c.principal, "changed_at_ms": c.changedAtMs, "reason": c.reason,
        ]
    }

    static func permissions(_ p: PermissionsResponse) -> [String: Any] {
        [
            "model": p.model,
            "permissions": p.permissions.map { ["principal": $0.principal, "role": enumName($0.role)] },
        ]
    }

    // MARK: Scheduler

    static func replica(_ r: Replica) -> [String: Any] {
        [
            "id": r.id, "deployment_id": r.deploymentId, "model": r.model, "version": r.version,
            "worker_id": r.workerId, "state": enumName(r.state), "error": r.error, "updated_at_ms": r.updatedAtMs,
        ]
    }

    static func deployment(_ d: Deployment) -> [String: Any] {
        [
            "id": d.id, "model": d.model, "version": selector(d.version), "resolved_version": d.resolvedVersion,
            "min_replicas": d.minReplicas, "max_replicas": d.maxReplicas, "desired_replicas": d.desiredReplicas,
            "ready_replicas": d.readyReplicas,
            "resources": d.resources.map { ["cpu_millis": $0.cpuMillis, "memory_bytes": $0.memoryBytes] as [String: Any] }
                ?? NSNull(),
            "priority": d.priority, "target_concurrency": d.targetConcurrency, "state": enumName(d.state),
            "reason": d.reason, "replicas": d.replicas.map(replica), "created_at_ms": d.createdAtMs,
            "updated_at_ms": d.updatedAtMs, "pending_code": d.pendingCode,
        ]
    }

    static func capacity(_ c: Capacity?) -> Any {
        guard let c else { return NSNull() }
        return ["cpu_millis": c.cpuMillis, "memory_bytes": c.memoryBytes, "replica_slots": c.replicaSlots] as [String: Any]
    }

    static func load(_ l: Load?) -> Any {
        guard let l else { return NSNull() }
        return [
            "replica_id": l.replicaId, "in_flight": l.inFlight, "queue_depth": l.queueDepth,
            "served_per_sec": number(l.servedPerSec), "rejected_per_sec": number(l.rejectedPerSec),
            "latency_ewma_us": l.latencyEwmaUs, "utilisation": number(l.utilisation),
        ] as [String: Any]
    }

    static func loadReport(_ r: LoadReport?) -> Any {
        guard let r else { return NSNull() }
        return [
            "worker_id": r.workerId, "reported_at_ms": r.reportedAtMs, "total": load(r.total),
            "replicas": r.replicas.map(load),
        ] as [String: Any]
    }

    static func worker(_ w: Worker) -> [String: Any] {
        [
            "id": w.id, "address": w.address, "capacity": capacity(w.capacity), "allocated": capacity(w.allocated),
            "health": enumName(w.health), "replicas": w.replicas.map(replica), "load": loadReport(w.load),
            "joined_at_ms": w.joinedAtMs, "last_seen_at_ms": w.lastSeenAtMs, "cordoned": w.cordoned,
            "drain_reason": w.drainReason,
        ]
    }

    // MARK: Recommend

    /// Scored items (with their titles, empty when the version has none), who served them, and for Recommend which
    /// path did (`HISTORY`, `SEED_ITEMS`, `ATTRIBUTE_NEIGHBOURS`, `POPULARITY`).
    static func scored(_ items: [ScoredItem], servedBy: ServedBy?, path: ServingPath? = nil) -> [String: Any] {
        var answer: [String: Any] = [
            "items": items.map { ["item_id": $0.itemId, "title": $0.title, "score": number($0.score)] },
            "served_by": servedBy.map {
                ["worker_id": $0.workerId, "replica_id": $0.replicaId, "version": $0.version] as [String: Any]
            } ?? NSNull(),
        ]
        if let path { answer["path"] = enumName(path) }
        return answer
    }

    static func evaluation(_ e: EvaluateResponse) -> [String: Any] {
        [
            "model": e.model, "version": e.version, "metrics": metrics(e.metrics), "stored": e.stored,
            "evaluated_at_ms": e.evaluatedAtMs,
        ]
    }

    // MARK: Mesh

    /// One Mesh/Watch event: `revision`, `occurred_at_ms`, `kind` and the payload under its proto field name.
    static func meshEvent(_ e: MeshEvent) -> [String: Any] {
        var object: [String: Any] = [
            "revision": e.revision, "occurred_at_ms": e.occurredAtMs, "kind": enumName(e.kind),
        ]
        switch e.payload {
        case .snapshot(let s)?:
            object["snapshot"] = [
                "reset": s.reset, "workers": s.workers.map(worker), "deployments": s.deployments.map(deployment),
                "replicas": s.replicas.map(replica),
            ] as [String: Any]
        case .workerJoined(let w)?: object["worker_joined"] = worker(w)
        case .workerLeft(let l)?: object["worker_left"] = ["worker_id": l.workerId, "reason": l.reason]
        case .healthChanged(let h)?:
            object["health_changed"] = [
                "worker_id": h.workerId, "previous": enumName(h.previous), "health": enumName(h.health),
                "reason": h.reason,
            ]
        case .loadReported(let r)?: object["load_reported"] = loadReport(r)
        case .replicaPlaced(let r)?: object["replica_placed"] = replica(r)
        case .replicaReady(let r)?: object["replica_ready"] = replica(r)
        case .replicaDraining(let r)?: object["replica_draining"] = replica(r)
        case .replicaRemoved(let r)?: object["replica_removed"] = replica(r)
        case .deploymentScaled(let d)?: object["deployment_scaled"] = deployment(d)
        case .versionPublished(let v)?: object["version_published"] = version(v)
        case .aliasMoved(let a)?: object["alias_moved"] = aliasChange(a)
        case .heartbeat?: object["heartbeat"] = [String: Any]()
        case nil: break
        }
        return object
    }

    /// Serialises a JSON object (keys sorted, so responses are stable).
    static func data(_ object: Any) -> Data {
        // Every value above is a string, number, bool, null, array or object: serialisation cannot fail.
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])) ?? Data("{}".utf8)
    }
}
