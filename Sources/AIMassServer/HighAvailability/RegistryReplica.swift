import AIMassEtcd
import EtcdAPI
import Logging
import ModelRegistry

/// Keeps a control plane's local registry (its own `--data-dir`) a replica of the rows under `PREFIX/registry/`.
///
/// ``resync()`` reads every row and the seeded marker in one etcd transaction (one revision) and replaces the local
/// tables with them; ``follow(from:)`` then applies the watch's puts and deletes from the next revision, one etcd
/// revision (one leader transaction) per SQLite transaction. A standby runs ``keepCurrent()``; the leader, once
/// elected, resyncs once more (every write of its predecessor has a lower revision than its own leader key) and
/// seeds an empty prefix from its local registry (``seed(fence:maxTxnOps:)``).
struct RegistryReplica: Sendable {
    let etcd: EtcdClient
    let prefix: String
    let registry: ModelRegistry
    let logger: Logger

    /// Rows read per etcd range call: far below the client's 4 MiB message limit even for large rows.
    static let pageSize: Int64 = 500

    /// Replaces the local registry with etcd's rows; returns the revision read, or nil when the prefix was never
    /// seeded (the local registry is then left as it is). The rows are read in pages, all at the revision of the
    /// first (the seeded marker is read in the same transaction as it).
    func resync() async throws -> Int64? {
        let rows = Array(RegistryKeys.rowPrefix(prefix).utf8)
        let end = EtcdClient.prefixEnd(rows)
        let response = try await etcd.txn(
            TxnRequest(success: [
                RequestOp(request: .requestRange(RangeRequest(key: RegistryKeys.seededKey(prefix)))),
                RequestOp(request: .requestRange(RangeRequest(key: rows, rangeEnd: end, limit: Self.pageSize))),
            ]))
        guard response.responses.count == 2, case .responseRange(let marker)? = response.responses[0].response,
            case .responseRange(var page)? = response.responses[1].response
        else { throw EtcdError.unavailable("etcd answered the registry read without its two ranges") }
        guard !marker.kvs.isEmpty else { return nil }
        let revision = response.header?.revision ?? 0
        var changes: [RegistryRowChange] = []
        while true {
            changes += page.kvs.map { kv in
                RegistryRowChange(key: String(decoding: kv.key.dropFirst(rows.count), as: UTF8.self), value: kv.value)
            }
            guard page.more, let last = page.kvs.last else { break }
            // The next key after the last one read, at the same revision.
            page = try await etcd.range(
                RangeRequest(key: last.key + [0], rangeEnd: end, limit: Self.pageSize, revision: revision))
        }
        try registry.replaceReplicated(with: changes)
        logger.info("registry replica loaded from etcd", metadata: ["rows": "\(changes.count)", "revision": "\(revision)"])
        return revision
    }

    /// Applies every change under the prefix from `revision` on, until cancelled or the watch fails.
    func follow(from revision: Int64) async throws {
        let rows = Array(RegistryKeys.rowPrefix(prefix).utf8)
        var batch: [RegistryRowChange] = []
        for try await update in etcd.watch(prefix: rows, fromRevision: revision) {
            // One SQLite transaction per etcd revision, so the replica never shows half a leader transaction.
            var current: Int64?
            for event in update.events {
                guard let kv = event.kv else { continue }
                if let current, kv.modRevision != current {
                    try registry.applyReplicated(batch)
                    batch.removeAll()
                }
                current = kv.modRevision
                let key = String(decoding: kv.key.dropFirst(rows.count), as: UTF8.self)
                batch.append(RegistryRowChange(key: key, value: event.type == .delete ? nil : kv.value))
            }
            if !batch.isEmpty {
                try registry.applyReplicated(batch)
                batch.removeAll()
            }
        }
    }

    /// A standby's loop: resync, then follow; after a failure (etcd unreachable, compaction) resync again. Waits
    /// while the prefix is unseeded. Calls `loaded` after each resync. Returns when cancelled.
    func keepCurrent(loaded: @Sendable () -> Void = {}) async {
        while !Task.isCancelled {
            do {
                if let revision = try await resync() {
                    loaded()
                    try await follow(from: revision + 1)
                } else {
                    try await Task.sleep(for: .seconds(1))  // no leader has seeded the registry yet
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("registry replica: etcd read failed; reloading", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Seeds the empty prefix from the local registry (creating the admin user and `DATADIR/admin.token` first
    /// if the registry has no user): an existing single-node data directory so migrates to etcd.
    func seed(fence: LeaderElection.Fence, maxTxnOps: Int) async throws {
        if try registry.createAdminIfNeeded() {
            logger.notice("created the admin user for the cluster", metadata: ["token_file": "\(registry.adminTokenPath)"])
        }
        let rows = try registry.replicatedRows()
        let transactions = RegistryKeys.seed(rows, prefix: prefix, fence: fence, maxTxnOps: maxTxnOps)
        for transaction in transactions {
            guard try await etcd.txn(transaction).succeeded else {
                throw EtcdError.notLeader("fenced while seeding the registry")
            }
        }
        logger.notice(
            "registry seeded in etcd from the local data directory",
            metadata: ["rows": "\(rows.count)", "transactions": "\(transactions.count)"])
    }
}
