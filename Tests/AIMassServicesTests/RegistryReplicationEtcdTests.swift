import AIMassEtcd
import EtcdAPI
import ModelRegistry
import Testing

@testable import AIMassServer

/// The etcd side of registry replication, without etcd: the fenced transaction a registry transaction becomes,
/// etcd's limits, and the seed's split.
@Suite("Registry replication to etcd")
struct RegistryReplicationEtcdTests {
    static let fence = LeaderElection.Fence(key: Array("/aimass/leader".utf8), createRevision: 42, lease: 7)
    static let guardKey = (key: RegistryKeys.guardKey("/aimass"), revision: Int64(17), id: "abc")

    static func key(_ op: RequestOp) -> String {
        switch op.request {
        case .requestPut(let put)?: String(decoding: put.key, as: UTF8.self)
        case .requestDeleteRange(let delete)?: String(decoding: delete.key, as: UTF8.self)
        default: ""
        }
    }

    @Test("One registry transaction is one fenced etcd transaction: a put per row written, a delete per row deleted")
    func fencedTransaction() throws {
        let changes = [
            RegistryRowChange(key: "models/i1", value: [1, 2, 3]),
            RegistryRowChange(key: "aliases/i1/tproduction", value: nil),
        ]
        let request = try EtcdRegistryReplication.transaction(
            changes, keyPrefix: RegistryKeys.rowPrefix("/aimass"), fence: Self.fence, guard: Self.guardKey,
            maxTxnOps: 128, maxRequestBytes: 1_572_864)
        // The fence, and the guard: the last registry transaction's key unchanged since this leader wrote it.
        #expect(request.compare == [Self.fence.compare, RegistryKeys.guardCompare(Self.guardKey.key, revision: 17)])
        #expect(request.compare.last?.target == .mod)
        #expect(request.success.map(Self.key) == [
            "/aimass/registry/models/i1", "/aimass/registry/aliases/i1/tproduction", "/aimass/registry-txn",
        ])
        guard case .requestPut(let put)? = request.success[0].request else {
            Issue.record("first operation is not a put")
            return
        }
        #expect(put.value == [1, 2, 3])
        guard case .requestDeleteRange(let delete)? = request.success[1].request else {
            Issue.record("second operation is not a delete")
            return
        }
        #expect(delete.rangeEnd.isEmpty)  // that key alone
    }

    @Test("An unsettled transaction is named by the tables it changed, each once, sorted")
    func unsettledTables() {
        let changes = [
            RegistryRowChange(key: "aliases/i1/tproduction", value: [1]),
            RegistryRowChange(key: "alias_history/i1/i9", value: [2]),
            RegistryRowChange(key: "aliases/i2/tstaging", value: nil),
        ]
        #expect(EtcdRegistryReplication.tables(of: changes) == "alias_history, aliases")
        #expect(EtcdRegistryReplication.tables(of: [RegistryRowChange(key: "audit_events/i7", value: [3])])
            == "audit_events")
    }

    @Test("A transaction over etcd's operation or size limit fails clearly instead of being split")
    func limits() {
        let many = (1...128).map { RegistryRowChange(key: "alias_history/i\($0)", value: nil) }
        let tooMany = #expect(throws: RegistryError.self) {
            try EtcdRegistryReplication.transaction(
                many, keyPrefix: "/p/registry/", fence: Self.fence, guard: Self.guardKey, maxTxnOps: 128,
                maxRequestBytes: 1_572_864)
        }
        #expect(tooMany?.code == .resourceExhausted)
        #expect(tooMany?.message.contains("--max-txn-ops") == true)
        // 127 rows and the guard's put: 128 operations, etcd's default.
        #expect((try? EtcdRegistryReplication.transaction(
            Array(many.prefix(127)), keyPrefix: "/p/registry/", fence: Self.fence, guard: Self.guardKey, maxTxnOps: 128,
            maxRequestBytes: 1_572_864))?.success.count == 128)
        let big = [RegistryRowChange(key: "versions/i1/i1", value: Array(repeating: 7, count: 2 << 20))]
        let tooBig = #expect(throws: RegistryError.self) {
            try EtcdRegistryReplication.transaction(
                big, keyPrefix: "/p/registry/", fence: Self.fence, guard: Self.guardKey, maxTxnOps: 128,
                maxRequestBytes: 1_572_864)
        }
        #expect(tooBig?.code == .resourceExhausted)
    }

    @Test("The seed clears the prefix first, writes every row once, ends with the marker, within the limits")
    func seedSplit() {
        let rows = (1...300).map { RegistryRowChange(key: "audit_events/i\($0)", value: Array(repeating: 1, count: 10)) }
        let transactions = RegistryKeys.seed(rows, prefix: "/aimass", fence: Self.fence, maxTxnOps: 128)
        #expect(transactions.count == 4)  // the clear alone, then 300 + 1 operations, 128 a transaction
        #expect(transactions.first?.success.count == 1)
        #expect(transactions.allSatisfy { $0.compare == [Self.fence.compare] && $0.success.count <= 128 })
        let operations = transactions.flatMap(\.success)
        guard case .requestDeleteRange(let clear)? = operations.first?.request else {
            Issue.record("the seed does not start by clearing the prefix")
            return
        }
        #expect(String(decoding: clear.key, as: UTF8.self) == "/aimass/registry/")
        #expect(String(decoding: clear.rangeEnd, as: UTF8.self) == "/aimass/registry0")
        #expect(operations.dropFirst().dropLast().map(Self.key) == rows.map { "/aimass/registry/" + $0.key })
        #expect(operations.last.map(Self.key) == "/aimass/registry-seeded")

        // Large rows: split by bytes too.
        let large = (1...10).map { RegistryRowChange(key: "versions/i1/i\($0)", value: Array(repeating: 1, count: 300_000)) }
        let bySize = RegistryKeys.seed(large, prefix: "/aimass", fence: Self.fence, maxTxnOps: 128)
        #expect(bySize.count >= 4)
        #expect(bySize.flatMap(\.success).count == 12)
        #expect(bySize.dropFirst().allSatisfy { $0.success.count <= 4 })  // 300 kB rows, 1 MiB a transaction
    }
}
