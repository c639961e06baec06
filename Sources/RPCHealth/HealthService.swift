import RPCCore
import Synchronization

/// The standard `grpc.health.v1.Health` service: `Check`, `List` and `Watch`.
///
/// The overall status is kept under the empty service name. Statuses change with
/// ``setStatus(_:for:)``; every `Watch` stream receives each change.
///
/// ```swift
/// let health = HealthService()
/// health.setStatus(.serving, for: "aimass.v1.ModelRegistry")
/// ```
public final class HealthService: RPCService {
    public static let serviceName = "grpc.health.v1.Health"

    private struct State {
        var statuses: [String: ServingStatus] = ["": .serving]
        var watchers: [Int: (service: String, continuation: AsyncStream<ServingStatus>.Continuation)] = [:]
        var nextWatcher = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Sets a service's status and tells its watchers.
    public func setStatus(_ status: ServingStatus, for service: String) {
        let watchers = state.withLock { state -> [AsyncStream<ServingStatus>.Continuation] in
            guard state.statuses[service] != status else { return [] }
            state.statuses[service] = status
            return state.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// Marks every service NOT_SERVING (on shutdown).
    public func markAllNotServing() {
        let services = state.withLock { Array($0.statuses.keys) }
        for service in services { setStatus(.notServing, for: service) }
    }

    /// The current status of a service; `nil` when unknown.
    public func status(of service: String) -> ServingStatus? {
        state.withLock { $0.statuses[service] }
    }

    public func registerMethods(with router: inout RPCRouter) {
        router.registerInlineUnary(MethodDescriptor(service: Self.serviceName, method: "Check")) {
            (request: HealthCheckRequest, _) throws(RPCError) -> HealthCheckResponse in
            guard let status = self.status(of: request.service) else {
                throw RPCError(code: .notFound, message: "unknown service \(request.service)")
            }
            return HealthCheckResponse(status: status)
        }
        router.registerInlineUnary(MethodDescriptor(service: Self.serviceName, method: "List")) {
            (_: HealthListRequest, _) throws(RPCError) -> HealthListResponse in
            HealthListResponse(statuses: self.state.withLock { $0.statuses })
        }
        router.registerServerStreaming(MethodDescriptor(service: Self.serviceName, method: "Watch")) {
            (request: HealthCheckRequest, writer: RPCWriter<HealthCheckResponse>, _) in
            try await self.watch(request.service, writer: writer)
        }
    }

    private func watch(_ service: String, writer: RPCWriter<HealthCheckResponse>) async throws {
        let (stream, continuation) = AsyncStream<ServingStatus>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let id = state.withLock { state -> Int in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = (service, continuation)
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            return id
        }
        defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
        var last: ServingStatus?
        for await status in stream where status != last {
            last = status
            try await writer.write(HealthCheckResponse(status: status))
        }
    }
}
