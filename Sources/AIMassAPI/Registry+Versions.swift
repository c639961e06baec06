import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/registry.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.Version`: An immutable version of a model: one artifact (the interactions table) plus the metadata
/// it was published with.
public struct Version: WireMessage, Hashable {
    public var model: String
    public var number: UInt32
    public var createdAtMs: Int64
    public var author: String
    public var description: String
    public var sizeBytes: Int64
    public var sha256: String
    public var manifest: [String: String]
    public var metrics: [String: Double]
    public var metricsUpdatedAtMs: Int64
    public var dependencies: [String]
    public var inputSchema: [SchemaField]
    public var outputSchema: [SchemaField]
    public var annotations: [String: String]
    public var aliases: [String]

    public init(
        model: String = "",
        number: UInt32 = 0,
        createdAtMs: Int64 = 0,
        author: String = "",
        description: String = "",
        sizeBytes: Int64 = 0,
        sha256: String = "",
        manifest: [String: String] = [:],
        metrics: [String: Double] = [:],
        metricsUpdatedAtMs: Int64 = 0,
        dependencies: [String] = [],
        inputSchema: [SchemaField] = [],
        outputSchema: [SchemaField] = [],
        annotations: [String: String] = [:],
        aliases: [String] = []
    ) {
        self.model = model
        self.number = number
        self.createdAtMs = createdAtMs
        self.author = author
        self.description = description
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.manifest = manifest
        self.metrics = metrics
        self.metricsUpdatedAtMs = metricsUpdatedAtMs
        self.dependencies = dependencies
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
        self.aliases = aliases
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Version",
            unpack: aimass__v1__version__unpack,
            free: aimass__v1__version__free_unpacked
        ) { c in Version(c: c) }
    }

    init(c: Aimass__V1__Version) {
        model = ProtobufC.string(c.model)
        number = c.number
        createdAtMs = c.created_at_ms
        author = ProtobufC.string(c.author)
        description = ProtobufC.string(c.description)
        sizeBytes = c.size_bytes
        sha256 = ProtobufC.string(c.sha256)
        manifest = cMap(c.manifest, count: c.n_manifest) {
            (ProtobufC.string($0.key), ProtobufC.string($0.value))
        }
        metrics = cMap(c.metrics, count: c.n_metrics) {
            (ProtobufC.string($0.key), $0.value)
        }
        metricsUpdatedAtMs = c.metrics_updated_at_ms
        dependencies = ProtobufC.strings(c.dependencies, count: c.n_dependencies)
        inputSchema = cMessages(c.input_schema, count: c.n_input_schema) { SchemaField(c: $0) }
        outputSchema = cMessages(c.output_schema, count: c.n_output_schema) { SchemaField(c: $0) }
        annotations = cMap(c.annotations, count: c.n_annotations) {
            (ProtobufC.string($0.key), ProtobufC.string($0.value))
        }
        aliases = ProtobufC.strings(c.aliases, count: c.n_aliases)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Version {
        var message = Aimass__V1__Version()
        aimass__v1__version__init(&message)
        message.model = arena.string(model)
        message.number = number
        message.created_at_ms = createdAtMs
        message.author = arena.string(author)
        message.description = arena.string(description)
        message.size_bytes = sizeBytes
        message.sha256 = arena.string(sha256)
        message.n_manifest = manifest.count
        message.manifest = arena.messages(manifest.keys.sorted().map { key in
            var entry = Aimass__V1__Version__ManifestEntry()
            aimass__v1__version__manifest_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = arena.string(manifest[key]!)
            return entry
        })
        message.n_metrics = metrics.count
        message.metrics = arena.messages(metrics.keys.sorted().map { key in
            var entry = Aimass__V1__Version__MetricsEntry()
            aimass__v1__version__metrics_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = metrics[key]!
            return entry
        })
        message.metrics_updated_at_ms = metricsUpdatedAtMs
        message.n_dependencies = dependencies.count
        message.dependencies = arena.strings(dependencies)
        message.n_input_schema = inputSchema.count
        message.input_schema = arena.messages(inputSchema.map { $0.cStruct(arena) })
        message.n_output_schema = outputSchema.count
        message.output_schema = arena.messages(outputSchema.map { $0.cStruct(arena) })
        message.n_annotations = annotations.count
        message.annotations = arena.messages(annotations.keys.sorted().map { key in
            var entry = Aimass__V1__Version__AnnotationsEntry()
            aimass__v1__version__annotations_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = arena.string(annotations[key]!)
            return entry
        })
        message.n_aliases = aliases.count
        message.aliases = arena.strings(aliases)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.GetVersionRequest`: Request of ModelRegistry.GetVersion.
public struct GetVersionRequest: WireMessage, Hashable {
    public var model: String
    public var version: VersionSelector?

    public init(
        model: String = "",
        version: VersionSelector? = nil
    ) {
        self.model = model
        self.version = version
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "GetVersionRequest",
            unpack: aimass__v1__get_version_request__unpack,
            free: aimass__v1__get_version_request__free_unpacked
        ) { c in GetVersionRequest(c: c) }
    }

    init(c: Aimass__V1__GetVersionRequest) {
        model = ProtobufC.string(c.model)
        version = c.version.map { VersionSelector(c: $0.pointee) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__GetVersionRequest {
        var message = Aimass__V1__GetVersionRequest()
        aimass__v1__get_version_request__init(&message)
        message.model = arena.string(model)
        message.version = version.map { arena.box($0.cStruct(arena)) }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ListVersionsRequest`: Request of ModelRegistry.ListVersions.
public struct ListVersionsRequest: WireMessage, Hashable {
    public var model: String
    public var pageSize: UInt32
    public var pageToken: String

    public init(
        model: String = "",
        pageSize: UInt32 = 0,
        pageToken: String = ""
    ) {
        self.model = model
        self.pageSize = pageSize
        self.pageToken = pageToken
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListVersionsRequest",
            unpack: aimass__v1__list_versions_request__unpack,
            free: aimass__v1__list_versions_request__free_unpacked
        ) { c in ListVersionsRequest(c: c) }
    }

    init(c: Aimass__V1__ListVersionsRequest) {
        model = ProtobufC.string(c.model)
        pageSize = c.page_size
        pageToken = ProtobufC.string(c.page_token)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListVersionsRequest {
        var message = Aimass__V1__ListVersionsRequest()
        aimass__v1__list_versions_request__init(&message)
        message.model = arena.string(model)
        message.page_size = pageSize
        message.page_token = arena.string(pageToken)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ListVersionsResponse`: One page of ModelRegistry.ListVersions.
public struct ListVersionsResponse: WireMessage, Hashable {
    public var versions: [Version]
    public var nextPageToken: String

    public init(
        versions: [Version] = [],
        nextPageToken: String = ""
    ) {
        self.versions = versions
        self.nextPageToken = nextPageToken
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListVersionsResponse",
            unpack: aimass__v1__list_versions_response__unpack,
            free: aimass__v1__list_versions_response__free_unpacked
        ) { c in ListVersionsResponse(c: c) }
    }

    init(c: Aimass__V1__ListVersionsResponse) {
        versions = cMessages(c.versions, count: c.n_versions) { Version(c: $0) }
        nextPageToken = ProtobufC.string(c.next_page_token)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListVersionsResponse {
        var message = Aimass__V1__ListVersionsResponse()
        aimass__v1__list_versions_response__init(&message)
        message.n_versions = versions.count
        message.versions = arena.messages(versions.map { $0.cStruct(arena) })
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
