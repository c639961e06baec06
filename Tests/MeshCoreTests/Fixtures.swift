import MeshCore
import SchedulerCore

/// Small builders for the tests.
enum Fixture {
    static func worker(_ id: String, health: HealthStatus = .serving) -> MeshEvent.Payload {
        .workerJoined(Worker(id: WorkerID(id), address: "\(id).local:7000", health: health))
    }

    static func replica(_ id: String, model: String, worker: String, state: ReplicaState = .ready, at: Double = 0)
        -> Replica
    {
        Replica(
            id: ReplicaID(id), deploymentID: DeploymentID("d-\(model)"), model: model, version: 1, workerID: WorkerID(worker),
            state: state, updatedAt: at)
    }

    static func ready(_ id: String, model: String, worker: String = "w1", at: Double = 0) -> MeshEvent.Payload {
        .replicaReady(self.replica(id, model: model, worker: worker, at: at))
    }

    static func deployment(_ model: String, desired: Int = 1) -> MeshEvent.Payload {
        .deploymentScaled(deployment(model, desired: desired, state: .progressing))
    }

    static func deployment(_ model: String, desired: Int = 1, state: DeploymentState) -> Deployment {
        Deployment(
            spec: DeploymentSpec(id: DeploymentID("d-\(model)"), model: model, version: 1), desiredReplicas: desired,
            state: state)
    }

    static func load(_ worker: String, inFlight: UInt32) -> MeshEvent.Payload {
        .loadReported(LoadReport(workerId: worker, total: Load(inFlight: inFlight)))
    }

    static func hub(log: Int = 100, buffer: Int = 1_000, heartbeat: Duration? = nil) -> MeshHub {
        MeshHub(
            configuration: MeshHub.Configuration(logCapacity: log, bufferLimit: buffer, heartbeatInterval: heartbeat),
            wallClock: { 1_700_000_000_000 })
    }
}

extension Subscription.AsyncIterator {
    /// The next `count` events.
    mutating func take(_ count: Int) async throws -> [MeshEvent] {
        var events: [MeshEvent] = []
        while events.count < count, let event = try await self.next() {
            events.append(event)
        }
        return events
    }
}

extension MeshEvent {
    var snapshot: Snapshot? {
        if case .snapshot(let snapshot) = self.payload { return snapshot }
        return nil
    }

    var load: LoadReport? {
        if case .loadReported(let report) = self.payload { return report }
        return nil
    }
}
