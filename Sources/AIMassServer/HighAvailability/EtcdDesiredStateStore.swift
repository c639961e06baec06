import AIMassEtcd
import EtcdAPI
import ModelRegistry
import Synchronization

/// The control plane's desired state in etcd: one key per entry, `PREFIX/state/NAMESPACE/KEY`, and every batch of
/// changes one transaction guarded by the leader's fence (its leader key still exists with the creation revision it
/// won with). A deposed leader's write so fails instead of overwriting its successor's state.
///
/// The scheduler calls the store synchronously under its lock; each call runs on a ``BlockingBridge`` thread.
public final class EtcdDesiredStateStore: DesiredStateStore {
    private let etcd: EtcdClient
    private let fence: LeaderElection.Fence
    private let prefix: String
    private let bridge = BlockingBridge()
    private let closed = Mutex(false)
    private let onFenced: @Sendable () -> Void

    /// - Parameters:
    ///   - prefix: The cluster's key prefix (`--etcd-prefix`).
    ///   - fence: The leadership this process won.
    ///   - onFenced: Called when a write fails its fence: this process is no longer the leader.
    public init(
        etcd: EtcdClient, prefix: String, fence: LeaderElection.Fence, onFenced: @escaping @Sendable () -> Void
    ) {
        self.etcd = etcd
        self.prefix = prefix + "/state/"
        self.fence = fence
        self.onFenced = onFenced
    }

    public func load() throws(RegistryError) -> [String: [String: String]] {
        try checkOpen()
        let prefixBytes = Array(prefix.utf8)
        let etcd = self.etcd
        let response: RangeResponse
        do {
            response = try bridge.run { try await etcd.range(prefix: prefixBytes) }
        } catch {
            throw RegistryError(.internal, "cannot read the desired state from etcd: \(error)")
        }
        var entries: [String: [String: String]] = [:]
        for kv in response.kvs {
            let path = String(decoding: kv.key.dropFirst(prefixBytes.count), as: UTF8.self)
            guard let slash = path.firstIndex(of: "/") else { continue }
            entries[String(path[..<slash]), default: [:]][String(path[path.index(after: slash)...])] =
                String(decoding: kv.value, as: UTF8.self)
        }
        return entries
    }

    public func apply(_ changes: [ControlPlaneStore.Change]) throws(RegistryError) {
        guard !changes.isEmpty else { return }
        try checkOpen()
        let request = Self.transaction(changes, prefix: prefix, fence: fence)
        let etcd = self.etcd
        let response: TxnResponse
        do {
            response = try bridge.run { try await etcd.txn(request) }
        } catch {
            throw RegistryError(.internal, "cannot write the desired state to etcd: \(error)")
        }
        guard response.succeeded else {
            onFenced()
            throw RegistryError(.failedPrecondition, "this control plane is no longer the leader (its etcd leader key changed)")
        }
    }

    public func close() {
        closed.withLock { $0 = true }
    }

    private func checkOpen() throws(RegistryError) {
        if closed.withLock({ $0 }) { throw RegistryError(.failedPrecondition, "the etcd desired-state store is closed") }
    }

    /// The guarded transaction of one batch: the fence, then a put or a delete per change.
    static func transaction(_ changes: [ControlPlaneStore.Change], prefix: String, fence: LeaderElection.Fence) -> TxnRequest {
        TxnRequest(
            compare: [fence.compare],
            success: changes.map { change in
                let key = Array((prefix + change.namespace + "/" + change.key).utf8)
                if let value = change.value {
                    return RequestOp(request: .requestPut(PutRequest(key: key, value: Array(value.utf8))))
                }
                return RequestOp(request: .requestDeleteRange(DeleteRangeRequest(key: key)))
            })
    }
}
