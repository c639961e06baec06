import AIMassAPI
import Foundation
import ModelRegistry
import RPCCore

/// `aimass.v1.Feedback` over a ``FeedbackStore``: records what users did with their recommendations, durably and
/// idempotently, and lists it (`proto/aimass/v1/feedback.proto`).
public struct FeedbackService: RPCService {
    /// The gRPC service name.
    public static let serviceName = FeedbackMethods.serviceName
    /// The most events one message may carry.
    static let maxEventsPerMessage = 10_000

    let registry: ModelRegistry
    let store: FeedbackStore

    public init(registry: ModelRegistry, store: FeedbackStore) {
        self.registry = registry
        self.store = store
    }

    public func registerMethods(with router: inout RPCRouter) {
        router.registerClientStreaming(FeedbackMethods.record) {
            (requests: RPCRequestStream<RecordFeedbackRequest>, context) in
            try await self.record(requests, context: context)
        }
        router.registerUnary(FeedbackMethods.listFeedback) { (request: ListFeedbackRequest, context) in
            try self.listFeedback(request, context: context)
        }
    }

    func record(_ requests: RPCRequestStream<RecordFeedbackRequest>, context: ServerContext) async throws
        -> RecordFeedbackResponse
    {
        let principal = try registry.principal(for: context)
        var writable = Set<String>()
        var response = RecordFeedbackResponse()
        var index = 0
        for try await message in requests {
            guard message.events.count <= Self.maxEventsPerMessage else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "a Record message carries at most \(Self.maxEventsPerMessage) events, got \(message.events.count)")
            }
            var batch: [FeedbackStore.Event] = []
            batch.reserveCapacity(message.events.count)
            for event in message.events {
                var domain = try Self.domainEvent(event, index: index)
                if !writable.contains(domain.model) {
                    try requireRole(.writer, principal, model: domain.model)
                    writable.insert(domain.model)
                }
                if domain.servedVersion == 0, !event.servedAlias.isEmpty {
                    domain.servedVersion = try servedVersion(event, index: index, principal: principal)
                }
                batch.append(domain)
                index += 1
            }
            let (recorded, duplicates) = try store.record(batch)
            response.recorded += UInt64(recorded)
            response.duplicates += UInt64(duplicates)
        }
        return response
    }

    func listFeedback(_ request: ListFeedbackRequest, context: ServerContext) throws -> ListFeedbackResponse {
        let principal = try registry.principal(for: context)
        let limit = request.pageSize == 0 ? 1000 : Int(request.pageSize)
        guard limit <= 10_000 else {
            throw RPCError(code: .invalidArgument, message: "page_size must be at most 10000, got \(limit)")
        }
        try requireRole(.reader, principal, model: request.model)
        let events = try store.events(
            model: request.model, afterSequence: Int64(clamping: request.afterSequence), limit: limit)
        return ListFeedbackResponse(events: events.map { recorded in
            RecordedFeedback(
                sequence: UInt64(recorded.sequence), event: Self.apiEvent(recorded.event),
                recordedAtMs: recorded.recordedAtMs)
        })
    }

    /// The checks the proto states: an id, a model, a user, an item, a kind, a finite value.
    static func domainEvent(_ event: FeedbackEvent, index: Int) throws(RPCError) -> FeedbackStore.Event {
        func invalid(_ what: String) -> RPCError {
            RPCError(code: .invalidArgument, message: "event \(index) (id '\(event.eventId)'): \(what)")
        }
        guard (1...128).contains(event.eventId.utf8.count) else { throw invalid("event_id must be 1-128 characters") }
        guard !event.model.isEmpty else { throw invalid("model is required") }
        guard (1...256).contains(event.userId.utf8.count) else { throw invalid("user_id must be 1-256 characters") }
        guard (1...256).contains(event.itemId.utf8.count) else { throw invalid("item_id must be 1-256 characters") }
        guard let kind = FeedbackStore.Kind(rawValue: Int(event.kind.rawValue)) else {
            throw invalid("kind must be VIEW, CLICK, PURCHASE or RATING")
        }
        guard event.value.isFinite else { throw invalid("value must be a finite number") }
        guard event.atMs >= 0 else { throw invalid("at_ms must not be negative") }
        return FeedbackStore.Event(
            eventID: event.eventId, model: event.model, userID: event.userId, itemID: event.itemId, kind: kind,
            value: kind != .rating && event.value == 0 ? 1 : event.value, atMs: event.atMs,
            servedVersion: event.servedVersion)
    }

    static func apiEvent(_ event: FeedbackStore.Event) -> FeedbackEvent {
        FeedbackEvent(
            eventId: event.eventID, model: event.model, userId: event.userID, itemId: event.itemID,
            kind: FeedbackKind(rawValue: Int32(event.kind.rawValue)) ?? .unspecified, value: event.value,
            atMs: event.atMs, servedVersion: event.servedVersion)
    }

    /// The version the event's `served_alias` serves its user (see ``AIMassAPI/FeedbackEvent/attributed(by:)``); an
    /// alias the model does not have is the event's error.
    private func servedVersion(_ event: FeedbackEvent, index: Int, principal: Principal) throws -> UInt32 {
        do {
            return try event.attributed { model, alias, user in
                UInt32(clamping: try registry.servingVersion(model: model, alias: alias, user: user, by: principal))
            }.servedVersion
        } catch let error as RegistryError where error.code == .notFound || error.code == .invalidArgument {
            throw RPCError(
                code: .invalidArgument,
                message: "event \(index) (id '\(event.eventId)'): served_alias '\(event.servedAlias)': \(error.message)")
        }
    }

    /// The role check, with a model the caller cannot read reported as missing (as the registry's calls do).
    private func requireRole(_ required: DomainRole, _ principal: Principal, model: String) throws {
        try registry.hidingUnreadable(model, principal) {
            try registry.checkRole(principal, model: model, required: required)
        }
    }
}
