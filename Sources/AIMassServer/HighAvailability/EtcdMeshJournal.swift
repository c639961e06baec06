import AIMassAPI
import AIMassEtcd
import AIMassServices
import EtcdAPI
import Logging
import MeshCore
import RPCCore
import Synchronization

/// The leader's Mesh in etcd (``MeshJournal``), so the next leader continues the same revisions with the same history.
///
/// Keys, under `PREFIX/mesh/`:
/// - `event/REVISION` (20 digits): each state event as an `aimass.v1.MeshEvent`, written before it is issued;
/// - `checkpoint`: the whole state (``MeshCheckpoint``) at a revision, rewritten every ``checkpointEvery`` events,
///   when the events older than ``retainedEvents`` revisions are deleted in the same transaction.
///
/// Cost per state event: one etcd transaction (the fence and one put, about 200–600 bytes), as the revision
/// reservation it replaces; every ``checkpointEvery`` events the checkpoint (one snapshot) rides along. Every
/// transaction is guarded by the leader's fence: a deposed leader records nothing, so it issues nothing more.
public final class EtcdMeshJournal: MeshJournal {
    /// Events between two checkpoints.
    public let checkpointEvery: UInt64
    /// Events kept for resume (at least ``checkpointEvery``): a watcher of the previous leader up to this many
    /// revisions behind resumes without a reset.
    public let retainedEvents: UInt64
    private let etcd: EtcdClient
    private let fence: LeaderElection.Fence
    private let eventPrefix: String
    private let checkpointKey: [UInt8]
    private let bridge = BlockingBridge()
    private let lastCheckpoint = Mutex<UInt64?>(nil)
    private let onFailure: @Sendable () -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - prefix: The cluster's key prefix (`--etcd-prefix`).
    ///   - fence: The leadership this process won.
    ///   - onFailure: Called when an event cannot be recorded (fenced, or etcd unreachable): the hub halts, and this
    ///     process must stop leading.
    public init(
        etcd: EtcdClient, prefix: String, fence: LeaderElection.Fence, checkpointEvery: UInt64 = 100,
        retainedEvents: UInt64 = 1_000, logger: Logger, onFailure: @escaping @Sendable () -> Void
    ) {
        self.etcd = etcd
        self.fence = fence
        self.eventPrefix = prefix + "/mesh/event/"
        self.checkpointKey = Array((prefix + "/mesh/checkpoint").utf8)
        self.checkpointEvery = max(1, checkpointEvery)
        self.retainedEvents = max(retainedEvents, self.checkpointEvery)
        self.logger = logger
        self.onFailure = onFailure
    }

    /// `PREFIX/mesh/event/` and the revision in 20 digits, so keys sort as revisions do.
    static func eventKey(_ revision: UInt64, prefix eventPrefix: String) -> [UInt8] {
        let digits = String(revision)
        return Array((eventPrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits).utf8)
    }

    /// The fenced transaction that records `event`: its put, and with a checkpoint the checkpoint's put and the
    /// deletion of the events more than `retained` revisions old.
    static func transaction(
        _ event: MeshCore.MeshEvent, state: MeshState, checkpoint: Bool, retained: UInt64, eventPrefix: String,
        checkpointKey: [UInt8], fence: LeaderElection.Fence
    ) -> TxnRequest {
        var success = [
            RequestOp(
                request: .requestPut(
                    PutRequest(key: eventKey(event.revision, prefix: eventPrefix), value: AIMassAPI.MeshEvent(event).wireBytes())))
        ]
        if checkpoint {
            success.append(RequestOp(request: .requestPut(PutRequest(key: checkpointKey, value: MeshCheckpoint.encode(state)))))
            if event.revision > retained {
                let end = eventKey(event.revision - retained + 1, prefix: eventPrefix)
                success.append(
                    RequestOp(request: .requestDeleteRange(DeleteRangeRequest(key: eventKey(0, prefix: eventPrefix), rangeEnd: end))))
            }
        }
        return TxnRequest(compare: [fence.compare], success: success)
    }

    public func restore() throws -> (state: MeshState, history: [MeshCore.MeshEvent])? {
        let etcd = self.etcd
        let checkpointKey = self.checkpointKey
        let eventPrefix = Array(self.eventPrefix.utf8)
        let (checkpoint, stored) = try bridge.run {
            (try await etcd.range(checkpointKey), try await etcd.range(prefix: eventPrefix))
        }
        guard let bytes = checkpoint.kvs.first?.value else { return nil }
        var state = try MeshCheckpoint.decode(bytes)
        lastCheckpoint.withLock { $0 = state.revision }
        var events: [MeshCore.MeshEvent] = []
        for kv in stored.kvs {
            events.append(try MeshCore.MeshEvent(AIMassAPI.MeshEvent(wireBytes: kv.value)))
        }
        events.sort { $0.revision < $1.revision }
        // The events after the checkpoint bring the state to the last recorded revision.
        for event in events where event.revision > state.revision {
            let before = state.revision
            guard (try? state.apply(event.payload)) != nil, state.revision == before + 1, state.revision == event.revision else {
                logger.warning(
                    "mesh journal: an event does not follow the state; continuing from the revision before it",
                    metadata: ["revision": "\(event.revision)", "state_revision": "\(before)"])
                break
            }
        }
        let revision = state.revision
        return (state, events.filter { $0.revision <= revision })
    }

    public func record(_ event: MeshCore.MeshEvent, state: MeshState) -> Bool {
        let checkpointDue = lastCheckpoint.withLock { last in last.map { event.revision >= $0 + checkpointEvery } ?? true }
        let request = Self.transaction(
            event, state: state, checkpoint: checkpointDue, retained: retainedEvents, eventPrefix: eventPrefix,
            checkpointKey: checkpointKey, fence: fence)
        let etcd = self.etcd
        do {
            let response = try bridge.run { try await etcd.txn(request) }
            guard response.succeeded else {
                logger.critical("mesh journal: fenced (another control plane leads); the Mesh stops here")
                onFailure()
                return false
            }
        } catch {
            logger.critical(
                "mesh journal: event not recorded in etcd; the Mesh stops here",
                metadata: ["revision": "\(event.revision)", "error": "\(error)"])
            onFailure()
            return false
        }
        if checkpointDue { lastCheckpoint.withLock { $0 = event.revision } }
        return true
    }
}
