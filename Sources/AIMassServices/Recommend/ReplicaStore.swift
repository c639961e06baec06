import AIMassAPI
import RecommendCore
import SchedulerCore
import Synchronization

/// Seconds on one process-wide monotonic clock: the time base of admission control, load reports and the
/// scheduler (SchedulerCore takes plain `Double` seconds).
public enum MonotonicTime {
    static let origin = ContinuousClock.now

    /// Seconds since the process's first reading.
    public static func now() -> Double { seconds(ContinuousClock.now) }

    /// An instant of the continuous clock in this time base.
    public static func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let duration = instant - origin
        let (whole, attos) = duration.components
        return Double(whole) + Double(attos) / 1e18
    }
}

/// The replicas a worker holds: their lifecycle, built recommenders and admission controllers.
///
/// Thread-safe; the ``WorkerAgent`` adds and removes replicas as the control plane decides, and
/// ``ReplicaModelSource`` picks a ready one for each call.
public final class ReplicaStore: Sendable {
    /// Where a replica is in its life on this worker.
    public enum Phase: Sendable, Hashable {
        /// Downloading or building.
        case loading
        /// Serving calls.
        case ready
        /// Finishing in-flight calls; no new ones.
        case draining
    }

    /// One replica held here.
    public struct Entry: Sendable {
        /// Replica id from PlaceReplica.
        public var id: String
        /// Deployment it belongs to.
        public var deploymentID: String
        /// Model it serves.
        public var model: String
        /// Version it serves.
        public var version: UInt32
        /// Its phase.
        public var phase: Phase
        /// The built model, once ready.
        public var recommender: Recommender?
        /// Overload protection of the replica.
        public var admission: AdmissionController
        /// Calls running on it now (admitted or queued).
        public var inFlight: Int
        /// The measured service time of its model (decides whether calls run inline or on the executor).
        public var serviceTime = ServiceTimeEstimate()
        /// The `aimass_` metrics of its model and version.
        public var metrics: ReplicaMetrics
        /// When ``ReplicaStore/begin(model:version:)`` last picked it (a pick count; 0: never).
        var lastPicked: UInt64 = 0
    }

    private struct State {
        /// The (model, version, phase) series of `aimass_worker_replicas` set so far (reset to 0 once empty).
        var publishedReplicaSeries: Set<ReplicaMetrics.ReplicaSeries> = []
        var workerID = ""
        /// A handful per worker: an array scanned in order costs less per call than hashing ids.
        var entries: [Entry] = []
        var picks: UInt64 = 0

        func index(of id: String) -> Int? { entries.firstIndex { $0.id == id } }
    }
    private let state = Mutex(State())

    /// Creates an empty store.
    public init() {}

    /// The worker id the control plane assigned ("" before the first Welcome).
    public var workerID: String {
        get { state.withLock { $0.workerID } }
        set { state.withLock { $0.workerID = newValue } }
    }

    /// Registers a replica that starts loading; returns false when the id is already held.
    @discardableResult
    public func add(id: String, deploymentID: String, model: String, version: UInt32, admission: AdmissionController) -> Bool {
        changingReplicas { state in
            guard state.index(of: id) == nil else { return false }
            state.entries.append(
                Entry(
                    id: id, deploymentID: deploymentID, model: model, version: version, phase: .loading, recommender: nil,
                    admission: admission, inFlight: 0, metrics: ReplicaMetrics(model: model, version: version)
                )
            )
            return true
        }
    }

    /// Makes a loading replica ready with its recommender; false if it was removed or is draining meanwhile.
    @discardableResult
    public func markReady(_ id: String, recommender: Recommender) -> Bool {
        changingReplicas { state in
            guard let index = state.index(of: id), state.entries[index].phase == .loading else { return false }
            state.entries[index].recommender = recommender
            state.entries[index].phase = .ready
            return true
        }
    }

    /// Stops new calls to a replica; returns false if it is not held.
    @discardableResult
    public func beginDrain(_ id: String) -> Bool {
        changingReplicas { state in
            guard let index = state.index(of: id) else { return false }
            state.entries[index].phase = .draining
            return true
        }
    }

    /// Forgets a replica.
    public func remove(_ id: String) {
        changingReplicas { state in state.entries.removeAll { $0.id == id } }
    }

    /// Runs a change of the replicas held, then sets `aimass_worker_replicas{model,version,state}` to the counts after
    /// it (outside the lock; replicas change rarely, so the series are looked up here).
    private func changingReplicas<T>(_ change: (inout State) -> T) -> T {
        let (result, counts) = state.withLock { state -> (T, [ReplicaMetrics.ReplicaSeries: Int]) in
            let result = change(&state)
            var counts: [ReplicaMetrics.ReplicaSeries: Int] = [:]
            for entry in state.entries {
                counts[ReplicaMetrics.ReplicaSeries(model: entry.model, version: entry.version, phase: entry.phase), default: 0] += 1
            }
            for gone in state.publishedReplicaSeries where counts[gone] == nil { counts[gone] = 0 }
            state.publishedReplicaSeries = Set(counts.keys)
            return (result, counts)
        }
        ReplicaMetrics.publishReplicas(counts)
        return result
    }

    /// Every replica held, by id.
    public var entries: [Entry] { state.withLock { $0.entries.sorted { $0.id < $1.id } } }

    /// One replica, if held.
    public func entry(_ id: String) -> Entry? { state.withLock { state in state.index(of: id).map { state.entries[$0] } } }

    /// Picks a ready replica of `model` (of `version` when given, else the newest version held) with the fewest calls
    /// in flight, and counts the call on it; give it back with ``finish(_:)``.
    ///
    /// Ties go to the replica picked least recently, so idle replicas take sequential calls in turn (round robin)
    /// instead of the first one taking them all. O(replicas held), no allocation.
    public func begin(model: String, version: UInt32?) -> Entry? {
        state.withLock { state in
            func serves(_ entry: Entry) -> Bool {
                entry.model == model && entry.phase == .ready && (version == nil || entry.version == version)
            }
            var newest = version
            if newest == nil {
                for entry in state.entries where serves(entry) { newest = max(newest ?? entry.version, entry.version) }
            }
            var best: Int?
            for index in state.entries.indices where serves(state.entries[index]) && state.entries[index].version == newest {
                guard let current = best else {
                    best = index
                    continue
                }
                let (x, y) = (state.entries[index], state.entries[current])
                if (x.inFlight, x.lastPicked, x.id) < (y.inFlight, y.lastPicked, y.id) { best = index }
            }
            guard let best else { return nil }
            let picked = state.entries[best]
            state.picks += 1
            state.entries[best].inFlight += 1
            state.entries[best].lastPicked = state.picks
            return picked
        }
    }

    /// Ends a call counted by ``begin(model:version:)``.
    public func finish(_ id: String) {
        state.withLock { state in
            if let index = state.index(of: id) { state.entries[index].inFlight = max(0, state.entries[index].inFlight - 1) }
        }
    }

    /// Whether any replica of `model` (at `version` when given) is ready here.
    public func hasReady(model: String, version: UInt32?) -> Bool {
        state.withLock { state in
            state.entries.contains { $0.model == model && $0.phase == .ready && (version == nil || $0.version == version) }
        }
    }

    /// Waits until no call runs on the replica, or `timeout` passes.
    public func waitIdle(_ id: String, timeout: Duration) async {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end, (entry(id)?.inFlight ?? 0) > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
