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
        /// When ``ReplicaStore/begin(model:version:)`` last picked it (a pick count; 0: never).
        var lastPicked: UInt64 = 0
    }

    private struct State {
        var workerID = ""
        var entries: [String: Entry] = [:]
        var picks: UInt64 = 0
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
        state.withLock { state in
            guard state.entries[id] == nil else { return false }
            state.entries[id] = Entry(
                id: id, deploymentID: deploymentID, model: model, version: version, phase: .loading, recommender: nil,
                admission: admission, inFlight: 0
            )
            return true
        }
    }

    /// Makes a loading replica ready with its recommender; false if it was removed or is draining meanwhile.
    @discardableResult
    public func markReady(_ id: String, recommender: Recommender) -> Bool {
        state.withLock { state in
            guard state.entries[id]?.phase == .loading else { return false }
            state.entries[id]?.recommender = recommender
            state.entries[id]?.phase = .ready
            return true
        }
    }

    /// Stops new calls to a replica; returns false if it is not held.
    @discardableResult
    public func beginDrain(_ id: String) -> Bool {
        state.withLock { state in
            guard state.entries[id] != nil else { return false }
            state.entries[id]?.phase = .draining
            return true
        }
    }

    /// Forgets a replica.
    public func remove(_ id: String) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    /// Every replica held, by id.
    public var entries: [Entry] { state.withLock { $0.entries.values.sorted { $0.id < $1.id } } }

    /// One replica, if held.
    public func entry(_ id: String) -> Entry? { state.withLock { $0.entries[id] } }

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
            let candidates = state.entries.values.lazy.filter(serves)
            guard let newest = version ?? candidates.map(\.version).max(),
                let best = candidates.filter({ $0.version == newest })
                    .min(by: { ($0.inFlight, $0.lastPicked, $0.id) < ($1.inFlight, $1.lastPicked, $1.id) })
            else { return nil }
            state.picks += 1
            state.entries[best.id]?.inFlight += 1
            state.entries[best.id]?.lastPicked = state.picks
            return best
        }
    }

    /// Ends a call counted by ``begin(model:version:)``.
    public func finish(_ id: String) {
        state.withLock { state in
            if let count = state.entries[id]?.inFlight { state.entries[id]?.inFlight = max(0, count - 1) }
        }
    }

    /// Whether any replica of `model` (at `version` when given) is ready here.
    public func hasReady(model: String, version: UInt32?) -> Bool {
        state.withLock { state in
            state.entries.values.contains { $0.model == model && $0.phase == .ready && (version == nil || $0.version == version) }
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
