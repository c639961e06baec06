import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/registry.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.ListModelsRequest`: Request of ModelRegistry.ListModels; the filters combine with AND.
public struct ListModelsRequest: WireMessage, Hashable {
    public var pageSize: UInt32
    public var pageToken: String
    public var tag: String
    public var author: String
    public var namePrefix: String

    public init(
        pageSize: UInt32 = 0,
        pageToken: String = "",
        tag: String = "",
        author: String = "",
        namePrefix: String = ""
    ) {
        self.pageSize = pageSize
        self.pageToken = pageToken
        self.tag = tag
        self.author = author
        self.namePrefix = namePrefix
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListModelsRequest",
            unpack: aimass__v1__list_models_request__unpack,
            free: aimass__v1__list_models_request__free_unpacked
        ) { c in ListModelsRequest(c: c) }
    }

    init(c: Aimass__V1__ListModelsRequest) {
        pageSize = c.page_size
        pageToken = ProtobufC.string(c.page_token)
        tag = ProtobufC.string(c.tag)
        author = ProtobufC.string(c.author)
        namePrefix = ProtobufC.string(c.name_prefix)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListModelsRequest {
        var message = Aimass__V1__ListModelsRequest()
        aimass__v1__list_models_request__init(&message)
        message.page_size = pageSize
        message.page_token = arena.string(pageToken)
        message.tag = arena.string(tag)
        message.author = arena.string(author)
        message.name_prefix = arena.string(namePrefix)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ListModelsResponse`: One page of ModelRegistry.ListModels.
public struct ListModelsResponse: WireMessage, Hashable {
    public var models: [Model]
    public var nextPageToken: String

    public init(
        models: [Model] = [],
        nextPageToken: String = ""
    ) {
        self.models = models
        self.nextPageToken = nextPageToken
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListModelsResponse",
            unpack: aimass__v1__list_models_response__unpack,
            free: aimass__v1__list_models_response__free_unpacked
        ) { c in ListModelsResponse(c: c) }
    }

    init(c: Aimass__V1__ListModelsResponse) {
        models = cMessages(c.models, count: c.n_models) { Model(c: $0) }
        nextPageToken = ProtobufC.string(c.next_page_token)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListModelsResponse {
        var message = Aimass__V1__ListModelsResponse()
        aimass__v1__list_models_response__init(&message)
        message.n_models = models.count
        message.models = arena.messages(models.map { $0.cStruct(arena) })
        message.next_page_token = arena.string(nextPageToken)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.UpdateModelRequest`: Request of ModelRegistry.UpdateModel.
public struct UpdateModelRequest: WireMessage, Hashable {
    public var model: Model?
    public var updateMask: [String]

    public init(
        model: Model? = nil,
        updateMask: [String] = []
    ) {
        self.model = model
        self.updateMask = updateMask
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "UpdateModelRequest",
            unpack: aimass__v1__update_model_request__unpack,
            free: aimass__v1__update_model_request__free_unpacked
        ) { c in UpdateModelRequest(c: c) }
    }

    init(c: Aimass__V1__UpdateModelRequest) {
        model = c.model.map { Model(c: $0.pointee) }
        updateMask = ProtobufC.strings(c.update_mask, count: c.n_update_mask)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__UpdateModelRequest {
        var message = Aimass__V1__UpdateModelRequest()
        aimass__v1__update_model_request__init(&message)
        message.model = model.map { arena.box($0.cStruct(arena)) }
        message.n_update_mask = updateMask.count
        message.update_mask = arena.strings(updateMask)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
