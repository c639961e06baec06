import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/recommend.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.ScoredItem`: An item and its score; higher scores are better.
public struct ScoredItem: WireMessage, Hashable {
    public var itemId: String
    public var score: Double

    public init(
        itemId: String = "",
        score: Double = 0
    ) {
        self.itemId = itemId
        self.score = score
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ScoredItem",
            unpack: aimass__v1__scored_item__unpack,
            free: aimass__v1__scored_item__free_unpacked
        ) { c in ScoredItem(c: c) }
    }

    init(c: Aimass__V1__ScoredItem) {
        itemId = ProtobufC.string(c.item_id)
        score = c.score
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ScoredItem {
        var message = Aimass__V1__ScoredItem()
        aimass__v1__scored_item__init(&message)
        message.item_id = arena.string(itemId)
        message.score = score
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ServedBy`: Which replica answered.
public struct ServedBy: WireMessage, Hashable {
    public var workerId: String
    public var replicaId: String
    public var version: UInt32

    public init(
        workerId: String = "",
        replicaId: String = "",
        version: UInt32 = 0
    ) {
        self.workerId = workerId
        self.replicaId = replicaId
        self.version = version
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ServedBy",
            unpack: aimass__v1__served_by__unpack,
            free: aimass__v1__served_by__free_unpacked
        ) { c in ServedBy(c: c) }
    }

    init(c: Aimass__V1__ServedBy) {
        workerId = ProtobufC.string(c.worker_id)
        replicaId = ProtobufC.string(c.replica_id)
        version = c.version
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ServedBy {
        var message = Aimass__V1__ServedBy()
        aimass__v1__served_by__init(&message)
        message.worker_id = arena.string(workerId)
        message.replica_id = arena.string(replicaId)
        message.version = version
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.RecommendRequest`: Request of Recommend.Recommend.
public struct RecommendRequest: WireMessage, Hashable {
    public var model: String
    public var version: VersionSelector?
    public var userId: String
    public var seedItems: [String]
    public var k: UInt32
    public var excludeSeen: Bool

    public init(
        model: String = "",
        version: VersionSelector? = nil,
        userId: String = "",
        seedItems: [String] = [],
        k: UInt32 = 0,
        excludeSeen: Bool = false
    ) {
        self.model = model
        self.version = version
        self.userId = userId
        self.seedItems = seedItems
        self.k = k
        self.excludeSeen = excludeSeen
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "RecommendRequest",
            unpack: aimass__v1__recommend_request__unpack,
            free: aimass__v1__recommend_request__free_unpacked
        ) { c in RecommendRequest(c: c) }
    }

    init(c: Aimass__V1__RecommendRequest) {
        model = ProtobufC.string(c.model)
        version = c.version.map { VersionSelector(c: $0.pointee) }
        userId = ProtobufC.string(c.user_id)
        seedItems = ProtobufC.strings(c.seed_items, count: c.n_seed_items)
        k = c.k
        excludeSeen = c.exclude_seen != 0
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__RecommendRequest {
        var message = Aimass__V1__RecommendRequest()
        aimass__v1__recommend_request__init(&message)
        message.model = arena.string(model)
        message.version = version.map { arena.box($0.cStruct(arena)) }
        message.user_id = arena.string(userId)
        message.n_seed_items = seedItems.count
        message.seed_items = arena.strings(seedItems)
        message.k = k
        message.exclude_seen = excludeSeen ? 1 : 0
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.RecommendResponse`: Result of Recommend.Recommend.
public struct RecommendResponse: WireMessage, Hashable {
    public var items: [ScoredItem]
    public var servedBy: ServedBy?

    public init(
        items: [ScoredItem] = [],
        servedBy: ServedBy? = nil
    ) {
        self.items = items
        self.servedBy = servedBy
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "RecommendResponse",
            unpack: aimass__v1__recommend_response__unpack,
            free: aimass__v1__recommend_response__free_unpacked
        ) { c in RecommendResponse(c: c) }
    }

    init(c: Aimass__V1__RecommendResponse) {
        items = cMessages(c.items, count: c.n_items) { ScoredItem(c: $0) }
        servedBy = c.served_by.map { ServedBy(c: $0.pointee) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__RecommendResponse {
        var message = Aimass__V1__RecommendResponse()
        aimass__v1__recommend_response__init(&message)
        message.n_items = items.count
        message.items = arena.messages(items.map { $0.cStruct(arena) })
        message.served_by = servedBy.map { arena.box($0.cStruct(arena)) }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.SimilarItemsRequest`: Request of Recommend.SimilarItems.
public struct SimilarItemsRequest: WireMessage, Hashable {
    public var model: String
    public var version: VersionSelector?
    public var itemId: String
    public var k: UInt32

    public init(
        model: String = "",
        version: VersionSelector? = nil,
        itemId: String = "",
        k: UInt32 = 0
    ) {
        self.model = model
        self.version = version
        self.itemId = itemId
        self.k = k
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SimilarItemsRequest",
            unpack: aimass__v1__similar_items_request__unpack,
            free: aimass__v1__similar_items_request__free_unpacked
        ) { c in SimilarItemsRequest(c: c) }
    }

    init(c: Aimass__V1__SimilarItemsRequest) {
        model = ProtobufC.string(c.model)
        version = c.version.map { VersionSelector(c: $0.pointee) }
        itemId = ProtobufC.string(c.item_id)
        k = c.k
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__SimilarItemsRequest {
        var message = Aimass__V1__SimilarItemsRequest()
        aimass__v1__similar_items_request__init(&message)
        message.model = arena.string(model)
        message.version = version.map { arena.box($0.cStruct(arena)) }
        message.item_id = arena.string(itemId)
        message.k = k
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.SimilarItemsResponse`: Result of Recommend.SimilarItems.
public struct SimilarItemsResponse: WireMessage, Hashable {
    public var items: [ScoredItem]
    public var servedBy: ServedBy?

    public init(
        items: [ScoredItem] = [],
        servedBy: ServedBy? = nil
    ) {
        self.items = items
        self.servedBy = servedBy
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SimilarItemsResponse",
            unpack: aimass__v1__similar_items_response__unpack,
            free: aimass__v1__similar_items_response__free_unpacked
        ) { c in SimilarItemsResponse(c: c) }
    }

    init(c: Aimass__V1__SimilarItemsResponse) {
        items = cMessages(c.items, count: c.n_items) { ScoredItem(c: $0) }
        servedBy = c.served_by.map { ServedBy(c: $0.pointee) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__SimilarItemsResponse {
        var message = Aimass__V1__SimilarItemsResponse()
        aimass__v1__similar_items_response__init(&message)
        message.n_items = items.count
        message.items = arena.messages(items.map { $0.cStruct(arena) })
        message.served_by = servedBy.map { arena.box($0.cStruct(arena)) }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
