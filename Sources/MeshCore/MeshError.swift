/// Errors of the mesh core. The gRPC layer maps them to status codes.
public enum MeshError: Error, Sendable, Hashable {
    /// The subscriber fell more than its buffer bound behind and was ended; it resumes from the revision carried,
    /// the last one delivered to it. Maps to `RESOURCE_EXHAUSTED`.
    case subscriberTooSlow(lastDeliveredRevision: UInt64)
    /// The hub is shutting down; resume elsewhere or later from the revision carried. Maps to `UNAVAILABLE`.
    case shuttingDown(lastDeliveredRevision: UInt64)
    /// Snapshots and heartbeats are made by the hub, never published. Maps to `INVALID_ARGUMENT` (internal misuse).
    case notPublishable(EventKind)
}
