/// Where a control plane that may be replaced by another (high availability) records the Mesh as it publishes, so
/// that its successor continues the same revisions with the same history: a watcher that resumes on the new leader
/// from the last revision it applied gets exactly the events after it, with no reset.
///
/// The hub calls ``record(_:state:)`` for every state event *before* any subscriber can see it, under its lock; an
/// event that could not be recorded is never delivered (the hub halts, see ``MeshHub/isHalted``), so every revision
/// a watcher saw is one the successor knows.
public protocol MeshJournal: Sendable {
    /// What the previous leader recorded: its state at the last recorded revision and the recent events leading to it
    /// (consecutive revisions ending at `state.revision`, oldest first; possibly empty). Nil when nothing was
    /// recorded yet.
    func restore() throws -> (state: MeshState, history: [MeshEvent])?

    /// Records one state event (`state` is the hub's state after it). Returns false when it could not be recorded
    /// (the store is unreachable, or this process no longer leads).
    func record(_ event: MeshEvent, state: MeshState) -> Bool
}
