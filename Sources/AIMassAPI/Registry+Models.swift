import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/registry.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.Model`: A model: the unit that is versioned, deployed and called.
public struct Model: WireMessage, Hashable {
    public var name: String
    public var description: String
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    public var latestVersion: UInt32
    public var author: String
    public var tags: [String]
    public var inputSchema: [SchemaField]
    public var outputSchema: [SchemaField]
    public var metrics: [String: Double]
    public var dependencies: [String]
    public var sizeBytes: Int64
    public var intendedUse: String
    public var annotations: [String: String]
    public var manifest: [String: String]
    public var aliases: [String: UInt32]

    public init(
        name: String = "",
        description: String = "",
        createdAtMs: Int64 = 0,
        updatedAtMs: Int64 = 0,
        latestVersion: UInt32 = 0,
        author: String = "",
        tags: [String] = [],
        inputSchema: [SchemaField] = [],
        outputSchema: [SchemaField] = [],
        metrics: [String: Double] = [:],
        dependencies: [String] = [],
        sizeBytes: Int64 = 0,
        intendedUse: String = "",
        annotations: [String: String] = [:],
        manifest: [String: String] = [:],
        aliases: [String: UInt32] = [:]
    ) {
        self.name = name
        self.description = description
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.latestVersion = latestVersion
        self.author = author
        self.tags = tags
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.metrics = metrics
        self.dependencies = dependencies
        self.sizeBytes = sizeBytes
        self.intendedUse = intendedUse
        self.annotations = annotations
        self.manifest = manifest
        self.aliases = aliases
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Model",
            unpack: aimass__v1__model__unpack,
            free: aimass__v1__model__free_unpacked
        ) { c in Model(c: c) }
    }

    init(c: Aimass__V1__Model) {
        name = ProtobufC.string(c.name)
        description = ProtobufC.string(c.description)
        createdAtMs = c.created_at_ms
        updatedAtMs = c.updated_at_ms
        latestVersion = c.latest_version
        author = ProtobufC.string(c.author)
        tags = ProtobufC.strings(c.tags, count: c.n_tags)
        inputSchema = cMessages(c.input_schema, count: c.n_input_schema) { SchemaField(c: $0) }
        outputSchema = cMessages(c.output_schema, count: c.n_output_schema) { SchemaField(c: $0) }
        metrics = cMap(c.metrics, count: c.n_metrics) {
            (ProtobufC.string($0.key), $0.value)
        }
        dependencies = ProtobufC.strings(c.dependencies, count: c.n_dependencies)
        sizeBytes = c.size_bytes
        intendedUse = ProtobufC.string(c.intended_use)
        annotations = cMap(c.annotations, count: c.n_annotations) {
            (ProtobufC.string($0.key), ProtobufC.string($0.value))
        }
        manifest = cMap(c.manifest, count: c.n_manifest) {
            (ProtobufC.string($0.key), ProtobufC.string($0.value))
        }
        aliases = cMap(c.aliases, count: c.n_aliases) {
            (ProtobufC.string($0.key), $0.value)
        }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Model {
        var message = Aimass__V1__Model()
        aimass__v1__model__init(&message)
        message.name = arena.string(name)
        message.description = arena.string(description)
        message.created_at_ms = createdAtMs
        message.updated_at_ms = updatedAtMs
        message.latest_version = latestVersion
        message.author = arena.string(author)
        message.n_tags = tags.count
        message.tags = arena.strings(tags)
        message.n_input_schema = inputSchema.count
        message.input_schema = arena.messages(inputSchema.map { $0.cStruct(arena) })
        message.n_output_schema = outputSchema.count
        message.output_schema = arena.messages(outputSchema.map { $0.cStruct(arena) })
        message.n_metrics = metrics.count
        message.metrics = arena.messages(metrics.keys.sorted().map { key in
            var entry = Aimass__V1__Model__MetricsEntry()
            aimass__v1__model__metrics_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = metrics[key]!
            return entry
        })
        message.n_dependencies = dependencies.count
        message.dependencies = arena.strings(dependencies)
        message.size_bytes = sizeBytes
        message.intended_use = arena.string(intendedUse)
        message.n_annotations = annotations.count
        message.annotations = arena.messages(annotations.keys.sorted().map { key in
            var entry = Aimass__V1__Model__AnnotationsEntry()
            aimass__v1__model__annotations_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = arena.string(annotations[key]!)
            return entry
        })
        message.n_manifest = manifest.count
        message.manifest = arena.messages(manifest.keys.sorted().map { key in
            var entry = Aimass__V1__Model__ManifestEntry()
            aimass__v1__model__manifest_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = arena.string(manifest[key]!)
            return entry
        })
        message.n_aliases = aliases.count
        message.aliases = arena.messages(aliases.keys.sorted().map { key in
            var entry = Aimass__V1__Model__AliasesEntry()
            aimass__v1__model__aliases_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = aliases[key]!
            return entry
        })
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.CreateModelRequest`: Request of ModelRegistry.CreateModel.
public struct CreateModelRequest: WireMessage, Hashable {
    public var model: Model?

    public init(
        model: Model? = nil
    ) {
        self.model = model
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "CreateModelRequest",
            unpack: aimass__v1__create_model_request__unpack,
            free: aimass__v1__create_model_request__free_unpacked
        ) { c in CreateModelRequest(c: c) }
    }

    init(c: Aimass__V1__CreateModelRequest) {
        model = c.model.map { Model(c: $0.pointee) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__CreateModelRequest {
        var message = Aimass__V1__CreateModelRequest()
        aimass__v1__create_model_request__init(&message)
        message.model = model.map { arena.box($0.cStruct(arena)) }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.GetModelRequest`: Request of ModelRegistry.GetModel.
public struct GetModelRequest: WireMessage, Hashable {
    public var name: String

    public init(
        name: String = ""
    ) {
        self.name = name
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "GetModelRequest",
            unpack: aimass__v1__get_model_request__unpack,
            free: aimass__v1__get_model_request__free_unpacked
        ) { c in GetModelRequest(c: c) }
    }

    init(c: Aimass__V1__GetModelRequest) {
        name = ProtobufC.string(c.name)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__GetModelRequest {
        var message = Aimass__V1__GetModelRequest()
        aimass__v1__get_model_request__init(&message)
        message.name = arena.string(name)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.DeleteModelRequest`: Request of ModelRegistry.DeleteModel.
public struct DeleteModelRequest: WireMessage, Hashable {
    public var name: String

    public init(
        name: String = ""
    ) {
        self.name = name
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DeleteModelRequest",
            unpack: aimass__v1__delete_model_request__unpack,
            free: aimass__v1__delete_model_request__free_unpacked
        ) { c in DeleteModelRequest(c: c) }
    }

    init(c: Aimass__V1__DeleteModelRequest) {
        name = ProtobufC.string(c.name)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DeleteModelRequest {
        var message = Aimass__V1__DeleteModelRequest()
        aimass__v1__delete_model_request__init(&message)
        message.name = arena.string(name)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.DeleteModelResponse`: Empty on success.
public struct DeleteModelResponse: WireMessage, Hashable {
    public init() {}

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DeleteModelResponse",
            unpack: aimass__v1__delete_model_response__unpack,
            free: aimass__v1__delete_model_response__free_unpacked
        ) { c in DeleteModelResponse(c: c) }
    }

    init(c _: Aimass__V1__DeleteModelResponse) {
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DeleteModelResponse {
        var message = Aimass__V1__DeleteModelResponse()
        aimass__v1__delete_model_response__init(&message)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
