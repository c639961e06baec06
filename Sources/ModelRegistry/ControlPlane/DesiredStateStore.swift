/// Where the control plane keeps its durable desired state (deployments, drains, cordons, counters): namespace →
/// key → value, changed in batches that apply all or nothing.
///
/// ``ControlPlaneStore`` (SQLite in the data directory) is the embedded default; the high-availability control
/// plane keeps the same entries in etcd, where a batch is one transaction guarded by the leader's lease key.
public protocol DesiredStateStore: Sendable {
    /// Every entry: namespace → key → value.
    func load() throws(RegistryError) -> [String: [String: String]]
    /// Applies `changes` all or none, durable when this returns.
    func apply(_ changes: [ControlPlaneStore.Change]) throws(RegistryError)
    /// Releases the store; later calls throw.
    func close()
}

extension ControlPlaneStore: DesiredStateStore {}
