import AIMassAPI
import Logging
import MeshCore
import ModelRegistry
import RPCCore

/// `aimass.v1.Mesh`: the live state of the pool as one resumable, server-streaming `Watch`.
///
/// Each `Watch` authenticates its bearer token, subscribes to the ``MeshHub`` with the request's resume revision,
/// model and kind filters and heartbeat interval, and writes every event until the client cancels. A subscriber that
/// falls too far behind ends with `RESOURCE_EXHAUSTED`, and a shutting-down control plane ends every stream with
/// `UNAVAILABLE`; both carry the last delivered revision in the message and in the trailing metadata
/// ``lastRevisionKey``, so the client resumes from it.
public struct MeshService: RPCService {
    /// The gRPC service name.
    public static let serviceName = MeshMethods.serviceName
    /// Trailing metadata key carrying the last revision delivered to a stream that ended with an error.
    public static let lastRevisionKey = "aimass-last-revision"
    /// Bounds of `WatchRequest.heartbeat_interval_ms` (mesh.proto: clamped to [100, 60000]).
    static let heartbeatBoundsMs: ClosedRange<UInt32> = 100...60_000

    let hub: MeshHub
    let registry: ModelRegistry
    let logger: Logger
    /// Made with the service, so its series exist (at 0) before the first `Watch`.
    let metrics = MeshMetrics.shared

    /// Creates the service over a hub; `registry` authenticates callers.
    public init(hub: MeshHub, registry: ModelRegistry, logger: Logger = Logger(label: "aimass.mesh")) {
        self.hub = hub
        self.registry = registry
        self.logger = logger
    }

    /// Registers `Watch`.
    public func registerMethods(with router: inout RPCRouter) {
        router.registerServerStreaming(MeshMethods.watch) {
            (request: WatchRequest, writer: RPCWriter<AIMassAPI.MeshEvent>, context) in
            try await watch(request, writer: writer, context: context)
        }
    }

    /// The filter and heartbeat interval a request asks for.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` for an `UNSPECIFIED` kind.
    static func subscriptionParameters(
        _ request: WatchRequest
    ) throws(RPCError) -> (filter: MeshFilter, heartbeat: Duration?) {
        var kinds = Set<MeshCore.EventKind>()
        for kind in request.kinds {
            kinds.insert(try MeshCore.EventKind(validating: kind))
        }
        let heartbeat: Duration? =
            request.heartbeatIntervalMs == 0
            ? nil
            : .milliseconds(Int64(min(max(request.heartbeatIntervalMs, heartbeatBoundsMs.lowerBound), heartbeatBoundsMs.upperBound)))
        return (MeshFilter(models: Set(request.models), kinds: kinds), heartbeat)
    }

    func watch(_ request: WatchRequest, writer: RPCWriter<AIMassAPI.MeshEvent>, context: ServerContext) async throws {
        let principal = try registry.principal(for: context)
        let (filter, heartbeat) = try Self.subscriptionParameters(request)
        // An admin reads every model; anyone else's events leave out the models they cannot read, asked through
        // the registry's access cache, so a grant or revocation applies to the next event.
        let registry = self.registry
        var readable: MeshReadFilter? =
            principal.isAdmin
            ? nil
            : MeshReadFilter { model in (try? registry.checkRole(principal, model: model, required: .reader)) != nil }
        let subscription = hub.subscribe(
            fromRevision: request.resumeFromRevision, filter: filter, heartbeatInterval: heartbeat)
        // The transport cancels the handler's task when the client resets the stream; this also covers a context
        // cancelled without a task cancellation (deadline).
        context.onCancel { subscription.cancel() }
        var lastRevision = request.resumeFromRevision
        let metrics = self.metrics
        metrics.subscribers.increment()
        defer { metrics.subscribers.decrement() }
        do {
            for try await event in subscription {
                lastRevision = event.revision
                if readable == nil {
                    try await writer.write(AIMassAPI.MeshEvent(event))
                } else if let visible = readable?.visible(event) {
                    try await writer.write(AIMassAPI.MeshEvent(visible))
                } else {
                    continue
                }
                metrics.eventsSent.increment()
            }
        } catch let error as MeshError {
            metrics.dropped(error)
            logger.debug(
                "watch ended by the hub",
                metadata: ["error": "\(error)", "peer": "\(context.remotePeer)", "revision": "\(lastRevision)"])
            throw error.rpcError
        }
    }
}
