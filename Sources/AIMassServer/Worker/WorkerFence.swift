/// The worker's side of fencing: the highest control-plane epoch it has been welcomed with, and the epoch each
/// replica it holds was placed (or last confirmed) under. Pure state; the ``WorkerAgent`` keeps it under its lock.
///
/// A control plane of an older epoch than the highest seen is stale (a previous incarnation, or a leader that lost
/// its lease): its Welcome is refused, and so are placements and removals of an older epoch. When it rejoins, the
/// worker lists each replica with its epoch, so the control plane confirms (re-stamps) or removes every one.
struct WorkerFence: Sendable, Hashable {
    /// The highest epoch welcomed; 0 before the first Welcome (or from control planes without epochs).
    private(set) var highest: UInt64 = 0
    /// Epoch of each replica held, by replica id.
    private(set) var replicas: [String: UInt64] = [:]

    /// A Welcome of `epoch`: accepted (and remembered) unless older than the highest seen.
    mutating func welcome(_ epoch: UInt64) -> Bool {
        guard epoch >= highest else { return false }
        highest = epoch
        return true
    }

    /// A PlaceReplica of `epoch` for `replica` (new, or a confirmation of one held): accepted and the replica
    /// re-stamped, unless older than the highest epoch seen.
    mutating func place(_ replica: String, epoch: UInt64) -> Bool {
        guard accepts(epoch) else { return false }
        replicas[replica] = epoch
        return true
    }

    /// Whether an assignment of `epoch` may be carried out.
    func accepts(_ epoch: UInt64) -> Bool { epoch >= highest }

    /// The epoch `replica` is held under (0 if unknown).
    func epoch(of replica: String) -> UInt64 { replicas[replica] ?? 0 }

    /// The replica is gone from this worker.
    mutating func forget(_ replica: String) {
        replicas[replica] = nil
    }
}
