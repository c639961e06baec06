import AIMassEtcd
import EtcdAPI
import Logging
import ModelRegistry
import Synchronization

/// The leader's registry writes in etcd (``RegistryReplication``): each registry transaction becomes one etcd
/// transaction, guarded by the leader's fence, of a put (`PREFIX/registry/TABLE/PK…` → the row's encoded values)
/// or a delete per row it changed. If etcd refuses (fenced) or does not answer, the SQLite transaction rolls back
/// and the call fails with `UNAVAILABLE`.
///
/// "Does not answer" needs care: a transaction whose answer was lost may still be applied by etcd later. So each
/// one also puts `PREFIX/registry-txn` (a fresh id) and is guarded by that key's modification revision being the
/// one this leader last wrote. After an unknown outcome the change is settled in the background, while the
/// registry's lock is free (it must be: reconnecting to etcd may need the threads its callers block): our id in
/// the key means etcd applied it, and the local registry is reloaded from etcd (`onApplied`); otherwise a fenced
/// transaction moves the key on, after which the lost one can never apply. Until it is settled, every registry
/// write fails at once with `UNAVAILABLE`. So etcd and the leader's SQLite never disagree for longer than that.
///
/// etcd's limits are checked before sending: at most ``maxTxnOps`` operations per transaction (etcd's
/// `--max-txn-ops`, default 128; the guard key takes one) and about ``maxRequestBytes`` per request
/// (`--max-request-bytes`, default 1.5 MiB). A registry transaction over either (deleting a model with a long alias
/// history, say) fails with `RESOURCE_EXHAUSTED` and a message naming the limit; it is never split, since a
/// replica must see it whole.
public final class EtcdRegistryReplication: RegistryReplication {
    /// The most operations one etcd transaction may hold.
    public let maxTxnOps: Int
    /// The largest etcd request sent, in bytes.
    public let maxRequestBytes: Int
    private let etcd: EtcdClient
    private let fence: LeaderElection.Fence
    private let keyPrefix: String
    private let guardKey: [UInt8]
    private let bridge = BlockingBridge()
    private let onFenced: @Sendable () -> Void
    private let onApplied: @Sendable () async throws -> Void
    private let logger: Logger
    /// What this leader knows of the guard key.
    private let state = Mutex(State())

    private struct State {
        /// Its modification revision as this leader last wrote (or read) it; nil: not read yet.
        var revision: Int64?
        /// A transaction whose outcome is being settled: its id, the guard revision it expected, and the tables it
        /// changed (so that a refused writer learns whose change it waits for: often the audit log's, in the
        /// background).
        var unsettled: (id: String, expected: Int64, tables: String)?
    }

    /// - Parameters:
    ///   - prefix: The cluster's key prefix (`--etcd-prefix`); rows go under `PREFIX/registry/`.
    ///   - fence: The leadership this process won.
    ///   - onFenced: Called when a write fails its fence: this process must stop leading.
    ///   - onApplied: Reloads the local registry from etcd: called when a transaction whose answer was lost turns
    ///     out to have been applied (the SQLite transaction had rolled back).
    public init(
        etcd: EtcdClient, prefix: String, fence: LeaderElection.Fence, maxTxnOps: Int = 128,
        maxRequestBytes: Int = 1_572_864, logger: Logger, onFenced: @escaping @Sendable () -> Void,
        onApplied: @escaping @Sendable () async throws -> Void
    ) {
        self.etcd = etcd
        self.fence = fence
        self.keyPrefix = RegistryKeys.rowPrefix(prefix)
        self.guardKey = RegistryKeys.guardKey(prefix)
        self.maxTxnOps = maxTxnOps
        self.maxRequestBytes = maxRequestBytes
        self.logger = logger
        self.onFenced = onFenced
        self.onApplied = onApplied
    }

    public func replicate(_ changes: [RegistryRowChange]) throws(RegistryError) {
        let revision = try currentGuardRevision()
        let id = Self.newID()
        let request = try Self.transaction(
            changes, keyPrefix: keyPrefix, fence: fence, guard: (guardKey, revision, id), maxTxnOps: maxTxnOps,
            maxRequestBytes: maxRequestBytes)
        let etcd = self.etcd
        let response: TxnResponse
        do {
            response = try bridge.run { try await etcd.txn(request) }
        } catch {
            let tables = Self.tables(of: changes)
            state.withLock { $0.unsettled = (id, revision, tables) }
            logger.warning(
                "registry change: etcd did not answer, outcome unknown; settling it",
                metadata: ["error": "\(error)", "txn": "\(id)", "tables": "\(tables)"])
            Task { await self.settle(id: id, expected: revision) }
            throw RegistryError(
                .unavailable,
                "etcd did not answer (\(error)): the registry change may or may not have been made; retry when "
                    + "this control plane has settled it with etcd")
        }
        guard response.succeeded, let applied = response.header?.revision else {
            // The fence, or the guard: either way another writer was here; this process must not lead on.
            onFenced()
            throw RegistryError(.unavailable, "the registry change was not written: this control plane no longer leads")
        }
        state.withLock { $0.revision = applied }
    }

    private func currentGuardRevision() throws(RegistryError) -> Int64 {
        let known = state.withLock { ($0.revision, $0.unsettled?.tables) }
        if let tables = known.1 {
            throw RegistryError(
                .unavailable,
                "an earlier registry change (to \(tables)) is being settled with etcd (it did not answer); retry shortly")
        }
        if let revision = known.0 { return revision }
        let etcd = self.etcd
        let key = guardKey
        do {
            let response = try bridge.run { try await etcd.range(key) }
            let revision = response.kvs.first?.modRevision ?? 0
            state.withLock { $0.revision = revision }
            return revision
        } catch {
            throw RegistryError(.unavailable, "the registry change was not written: etcd did not answer (\(error))")
        }
    }

    /// Settles a transaction whose answer was lost (see the type's documentation); retries until etcd answers.
    private func settle(id: String, expected: Int64) async {
        let key = guardKey
        while !Task.isCancelled {
            do {
                let current = try await etcd.range(key)
                if let kv = current.kvs.first, String(decoding: kv.value, as: UTF8.self) == id {
                    try await onApplied()
                    state.withLock { $0 = State(revision: kv.modRevision, unsettled: nil) }
                    logger.notice("registry change settled: etcd had applied it; registry reloaded", metadata: ["txn": "\(id)"])
                    return
                }
                // Not applied (yet): move the guard on, so that it never will be.
                let moved = try await etcd.txn(
                    TxnRequest(
                        compare: [fence.compare, RegistryKeys.guardCompare(key, revision: expected)],
                        success: [RequestOp(request: .requestPut(PutRequest(key: key, value: Array(Self.newID().utf8))))]))
                if moved.succeeded, let revision = moved.header?.revision {
                    state.withLock { $0 = State(revision: revision, unsettled: nil) }
                    logger.notice("registry change settled: not applied, and now never will be", metadata: ["txn": "\(id)"])
                    return
                }
                // The guard moved: the lost transaction was just applied (read again), or this leader was fenced.
                let leader = try await etcd.range(fence.key)
                guard leader.kvs.first?.createRevision == fence.createRevision else {
                    onFenced()
                    return
                }
            } catch {
                logger.info("registry change not settled yet", metadata: ["txn": "\(id)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    static func newID() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 16) }

    /// The tables that `changes` touch, sorted and comma-separated (`audit_events`, `aliases, alias_history`).
    static func tables(of changes: [RegistryRowChange]) -> String {
        Set(changes.map { $0.key.prefix(while: { $0 != "/" }) }).sorted().joined(separator: ", ")
    }

    /// The fenced transaction of one registry transaction, after checking etcd's limits.
    static func transaction(
        _ changes: [RegistryRowChange], keyPrefix: String, fence: LeaderElection.Fence,
        guard guardKey: (key: [UInt8], revision: Int64, id: String), maxTxnOps: Int, maxRequestBytes: Int
    ) throws(RegistryError) -> TxnRequest {
        guard changes.count + 1 <= maxTxnOps else {
            throw RegistryError(
                .resourceExhausted,
                "this registry change touches \(changes.count) rows; etcd takes at most \(maxTxnOps) operations per "
                    + "transaction, one of them aimass's own (raise etcd's --max-txn-ops and aimass's "
                    + "--etcd-max-txn-ops together)")
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
        return TxnRequest(
            compare: [fence.compare, RegistryKeys.guardCompare(guardKey.key, revision: guardKey.revision)],
            success: operations + [
                RequestOp(request: .requestPut(PutRequest(key: guardKey.key, value: Array(guardKey.id.utf8))))
            ])
    }
}

/// The registry's keys in etcd.
enum RegistryKeys {
    /// `PREFIX/registry/`: one key per row below it.
    static func rowPrefix(_ prefix: String) -> String { prefix + "/registry/" }

    /// `PREFIX/registry-seeded`: written (last) by the leader that seeded the registry; without it the rows under
    /// the prefix are not a whole registry.
    static func seededKey(_ prefix: String) -> [UInt8] { Array((prefix + "/registry-seeded").utf8) }

    /// `PREFIX/registry-txn`: the id of the last registry transaction, whose modification revision guards the next.
    static func guardKey(_ prefix: String) -> [UInt8] { Array((prefix + "/registry-txn").utf8) }

    /// The guard key was last modified at `revision` (0: it does not exist).
    static func guardCompare(_ key: [UInt8], revision: Int64) -> Compare {
        Compare(result: .equal, target: .mod, key: key, targetUnion: .modRevision(revision))
    }

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
