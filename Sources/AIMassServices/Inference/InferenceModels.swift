import RPCCore

/// What the Open Inference Protocol asks of the models a server holds beyond serving them: who may see a model, and
/// which of its versions are ready here. The server assembly fills it from its registry or control plane and its
/// replicas.
public struct InferenceModels: Sendable {
    /// Checks that the caller may read the model (READER); throws `NOT_FOUND`, `UNAUTHENTICATED` or
    /// `PERMISSION_DENIED` as `aimass.v1.Recommend` does.
    public var authorize: @Sendable (_ model: String, _ context: ServerContext) async throws -> Void
    /// The versions of the model with at least one ready replica on this server, newest first.
    public var readyVersions: @Sendable (_ model: String) -> [UInt32]
    /// Whether the server takes inference calls (not shutting down or draining).
    public var serverReady: @Sendable () -> Bool

    public init(
        authorize: @escaping @Sendable (_ model: String, _ context: ServerContext) async throws -> Void,
        readyVersions: @escaping @Sendable (_ model: String) -> [UInt32],
        serverReady: @escaping @Sendable () -> Bool
    ) {
        self.authorize = authorize
        self.readyVersions = readyVersions
        self.serverReady = serverReady
    }
}

extension ReplicaStore {
    /// The versions of `model` with a ready replica here, newest first (``InferenceModels/readyVersions``).
    public func readyVersions(of model: String) -> [UInt32] {
        Array(Set(entries.filter { $0.model == model && $0.phase == .ready }.map(\.version))).sorted(by: >)
    }
}
