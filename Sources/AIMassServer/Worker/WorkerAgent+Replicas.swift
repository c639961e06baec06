import AIMassAPI
import AIMassServices
import MeshCore
import RPCCore
import RPCHTTP2
import SchedulerCore

extension WorkerAgent {
    /// The admission limits of a replica: its target concurrency is the starting limit; the gradient may raise it
    /// up to 4× while latency holds, and 32 calls may queue.
    static func admissionConfiguration(targetConcurrency: UInt32) -> AdmissionController.Configuration {
        let target = max(Int(targetConcurrency), 1)
        return .defaults {
            $0.initialLimit = target
            $0.maxLimit = max(target * 4, 4)
        }
    }

    /// PlaceReplica: DOWNLOADING → (sha256 checked) LOADING → READY, or FAILED.
    func place(_ place: PlaceReplica) async {
        let admission = AdmissionController(configuration: Self.admissionConfiguration(targetConcurrency: place.targetConcurrency))
        guard
            store.add(
                id: place.replicaId, deploymentID: place.deploymentId, model: place.model, version: place.version,
                admission: admission
            )
        else {
            if let entry = store.entry(place.replicaId) { report(place.replicaId, Self.apiState(entry.phase)) }
            return
        }
        report(place.replicaId, .downloading)
        do {
            let bytes = try await download(model: place.model, version: place.version)
            if !place.sha256.isEmpty {
                let actual = try await OffPoolThread.run(name: "aimass-sha256") { ArtifactDigest.sha256Hex(bytes) ?? "" }
                guard actual == place.sha256.lowercased() else {
                    throw RPCError(code: .dataLoss, message: "artifact sha256 \(actual) does not match \(place.sha256)")
                }
            }
            report(place.replicaId, .loading)
            let manifest = place.manifest
            let recommender = try await OffPoolThread.run(name: "aimass-build") {
                try RecommenderBuilder.build(bytes: bytes, manifest: manifest, model: place.model, version: Int(place.version))
            }
            if store.markReady(place.replicaId, recommender: recommender) {
                logger.info("replica ready", metadata: ["replica": "\(place.replicaId)"])
                report(place.replicaId, .ready)
            }
        } catch {
            logger.warning("replica failed", metadata: ["replica": "\(place.replicaId)", "error": "\(error)"])
            store.remove(place.replicaId)
            forgetEpoch(of: place.replicaId)
            report(place.replicaId, .failed, error: "\(error)")
        }
    }

    /// RemoveReplica: DRAINING (in-flight calls finish) → REMOVED.
    func remove(_ remove: RemoveReplica) async {
        guard store.entry(remove.replicaId) != nil else {
            report(remove.replicaId, .removed)
            return
        }
        store.beginDrain(remove.replicaId)
        if remove.drain {
            report(remove.replicaId, .draining)
            await store.waitIdle(remove.replicaId, timeout: .seconds(30))
        }
        store.remove(remove.replicaId)
        forgetEpoch(of: remove.replicaId)
        report(remove.replicaId, .removed)
    }

    /// Downloads a version's artifact with `ModelRegistry/DownloadVersion` from the control plane.
    func download(model: String, version: UInt32) async throws -> [UInt8] {
        let call: ClientCall<DownloadVersionRequest, DownloadVersionResponse> = try await client.serverStreaming(
            ModelRegistryMethods.downloadVersion,
            request: DownloadVersionRequest(model: model, version: AIMassAPI.VersionSelector(number: version)),
            options: CallOptions(timeout: .seconds(600), metadata: ["authorization": .string("Bearer \(configuration.token)")])
        )
        var bytes: [UInt8] = []
        for try await part in call.responses {
            switch part.part {
            case .version(let described)?: bytes.reserveCapacity(Int(clamping: described.sizeBytes))
            case .chunk(let chunk)?: bytes.append(contentsOf: chunk)
            case nil: break
            }
        }
        return bytes
    }

    /// The worker's load: per replica from its admission controller, and the totals. Calls shed by the server's call
    /// gate (before their model is known) count as rejected by the replicas in proportion to what each served.
    func loadReport() -> AIMassAPI.LoadReport {
        let now = MonotonicTime.now()
        let gateShed = callGate?.loadReport(now: now).rejectedPerSecond ?? 0
        var loads: [AIMassAPI.Load] = []
        var total = AIMassAPI.Load()
        var limits = 0
        var latencyWeighted = 0.0
        for entry in store.entries {
            let report = entry.admission.loadReport(now: now)
            let load = AIMassAPI.Load(
                replicaId: entry.id, inFlight: UInt32(clamping: report.inFlight), queueDepth: UInt32(clamping: report.queueDepth),
                servedPerSec: report.servedPerSecond, rejectedPerSec: report.rejectedPerSecond,
                latencyEwmaUs: Int64(report.latencyEWMA * 1_000_000), utilisation: report.utilisation
            )
            loads.append(load)
            total.inFlight += load.inFlight
            total.queueDepth += load.queueDepth
            total.servedPerSec += load.servedPerSec
            total.rejectedPerSec += load.rejectedPerSec
            latencyWeighted += report.latencyEWMA * max(report.servedPerSecond, 0.001)
            limits += report.limit
        }
        let weights = loads.reduce(0.0) { $0 + max($1.servedPerSec, 0.001) }
        for index in loads.indices where gateShed > 0 {
            let share = gateShed * max(loads[index].servedPerSec, 0.001) / weights
            loads[index].rejectedPerSec += share
            total.rejectedPerSec += share
        }
        total.latencyEwmaUs = weights > 0 ? Int64(latencyWeighted / weights * 1_000_000) : 0
        total.utilisation = limits > 0 ? min(1, Double(total.inFlight) / Double(limits)) : 0
        return AIMassAPI.LoadReport(
            workerId: store.workerID, reportedAtMs: MeshHub.unixMilliseconds(), total: total, replicas: loads
        )
    }
}
