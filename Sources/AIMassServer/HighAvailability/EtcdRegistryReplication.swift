import AIMassEtcd
import EtcdAPI
import ModelRegistry
import Synchronization

/// The leader's registry writes in etcd (``RegistryReplication``): each registry transaction becomes one etcd
/// transaction, guarded by the leader's fence, of a put (`PREFIX/registry/TABLE/PK…` → the row's encoded values)
/// or a delete per row it changed. If etcd refuses (fenced) or does not answer, the SQLite transaction rolls back
/// and the call fails with `UNAVAILABLE`: nothing is half-written.
///
/// etcd's limits are checked before sending: at most ``maxTxnOps`` rows per transaction (etcd's `--max-txn-ops`,
/// default 128) and about ``maxRequestBytes`` per request (`--max-request-bytes`, default 1.5 MiB). A registry
/// transaction over either (deleting a model with a long alias history, say) fails with `RESOURCE_EXHAUSTED` and a
/// message naming the limit; it is never split, since a replica must see it whole.
public final class EtcdRegistryReplication: RegistryReplication {
    /// The most rows one registry transaction may change.
    public let maxTxnOps: Int
    /// The largest etcd request sent, in bytes.
    public let maxRequestBytes: Int
    private let etcd: EtcdClient
    private let fence: LeaderElection.Fence
    private let keyPrefix: String
    private let bridge = BlockingBridge()
    private let onFenced: @Sendable () -> Void

    /// - Parameters:
    ///   - prefix: The cluster's key prefix (`--etcd-prefix`); rows go under `PREFIX/registry/`.
    ///   - fence: The leadership this process won.
    ///   - onFenced: Called when a write fails its fence: this process is no longer the leader.
    public init(
        etcd: EtcdClient, prefix: String, fence: LeaderElection.Fence, maxTxnOps: Int = 128,
        maxRequestBytes: Int = 1_572_864, onFenced: @escaping @Sendable () -> Void
    ) {
        self.etcd = etcd
        self.fence = fence
        self.keyPrefix = RegistryKeys.rowPrefix(prefix)
        self.maxTxnOps = maxTxnOps
        self.maxRequestBytes = maxRequestBytes
        self.onFenced = onFenced
    }

    public func replicate(_ changes: [RegistryRowChange]) throws(RegistryError) {
        let request = try Self.transaction(
            changes, keyPrefix: keyPrefix, fence: fence, maxTxnOps: maxTxnOps, maxRequestBytes: maxRequestBytes)
        let etcd = self.etcd
        let response: TxnResponse
        do {
            response = try bridge.run { try await etcd.txn(request) }
        } catch {
            throw RegistryError(.unavailable, "the registry change was not written: etcd did not take it (\(error))")
        }
        guard response.succeeded else {
            onFenced()
            throw RegistryError(.unavailable, "the registry change was not written: this control plane no longer leads")
        }
    }

    /// The fenced transaction of one registry transaction, after checking etcd's limits.
    static func transaction(
        _ changes: [RegistryRowChange], keyPrefix: String, fence: LeaderElection.Fence, maxTxnOps: Int,
        maxRequestBytes: Int
    ) throws(RegistryError) -> TxnRequest {
        guard changes.count <= maxTxnOps else {
            throw RegistryError(
                .resourceExhausted,
                "this registry change touches \(changes.count) rows; etcd takes at most \(maxTxnOps) operations per "
                    + "transaction (raise etcd's --max-txn-ops and aimass's --etcd-max-txn-ops together)")
        }
        let operations = changes.map { RegistryKeys.operation($0, keyPrefix: keyPrefix) }
        // Keys and values plus a generous allowance for each operation's framing and the fence.
        let size = changes.reduce(256) { $0 + keyPrefix.utf8.count + $1.key.utf8.count + ($1.value?.count ?? 0) + 16 }
        guard size <= maxRequestBytes else {
            throw RegistryError(
                .resourceExhausted,
                "this registry change is about \(size) bytes; etcd takes requests of at most \(maxRequestBytes) bytes "
                    + "(--max-request-bytes)")
        }
        return TxnRequest(compare: [fence.compare], success: operations)
    }
}

/// The registry's keys in etcd.
enum RegistryKeys {
    /// `PREFIX/registry/`: one key per row below it.
    static func rowPrefix(_ prefix: String) -> String { prefix + "/registry/" }

    /// `PREFIX/registry-seeded`: written (last) by the leader that seeded the registry; without it the rows under
    /// the prefix are not a whole registry.
    static func seededKey(_ prefix: String) -> [UInt8] { Array((prefix + "/registry-seeded").utf8) }

    static func operation(_ change: RegistryRowChange, keyPrefix: String) -> RequestOp {
        let key = Array((keyPrefix + change.key).utf8)
        if let value = change.value {
            return RequestOp(request: .requestPut(PutRequest(key: key, value: value)))
        }
        return RequestOp(request: .requestDeleteRange(DeleteRangeRequest(key: key)))
    }

    /// The fenced transactions that seed an empty prefix with `rows`: the first clears what a seed interrupted
    /// earlier left (alone: etcd refuses a transaction that deletes and puts the same key), the last writes the
    /// seeded marker; each holds at most `maxTxnOps` operations and about `maxBytes` of keys and values. Splitting
    /// is safe here: no replica reads the rows before the marker exists.
    static func seed(
        _ rows: [RegistryRowChange], prefix: String, fence: LeaderElection.Fence, maxTxnOps: Int,
        maxBytes: Int = 1 << 20
    ) -> [TxnRequest] {
        let keyPrefix = rowPrefix(prefix)
        let prefixBytes = Array(keyPrefix.utf8)
        let clear = RequestOp(
            request: .requestDeleteRange(DeleteRangeRequest(key: prefixBytes, rangeEnd: EtcdClient.prefixEnd(prefixBytes))))
        var operations = rows.map { (operation($0, keyPrefix: keyPrefix), keyPrefix.utf8.count + $0.key.utf8.count + ($0.value?.count ?? 0)) }
        operations.append((RequestOp(request: .requestPut(PutRequest(key: seededKey(prefix), value: Array("1".utf8)))), 0))
        var transactions = [TxnRequest(compare: [fence.compare], success: [clear])]
        var current: [RequestOp] = []
        var bytes = 0
        for (operation, size) in operations {
            if !current.isEmpty, current.count >= max(1, maxTxnOps) || bytes + size > maxBytes {
                transactions.append(TxnRequest(compare: [fence.compare], success: current))
                current = []
                bytes = 0
            }
            current.append(operation)
            bytes += size
        }
        transactions.append(TxnRequest(compare: [fence.compare], success: current))
        return transactions
    }
}
