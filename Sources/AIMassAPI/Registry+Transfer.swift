import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/registry.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.UploadVersionRequest`: One message of the UploadVersion stream: a header first, then chunks.
public struct UploadVersionRequest: WireMessage, Hashable {
    /// The `part` oneof.
    public enum Part: Hashable, Sendable {
        case header(VersionHeader)
        case chunk([UInt8])
    }

    public var part: Part?

    public init(
        part: Part? = nil
    ) {
        self.part = part
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "UploadVersionRequest",
            unpack: aimass__v1__upload_version_request__unpack,
            free: aimass__v1__upload_version_request__free_unpacked
        ) { c in UploadVersionRequest(c: c) }
    }

    init(c: Aimass__V1__UploadVersionRequest) {
        switch c.part_case {
        case AIMASS__V1__UPLOAD_VERSION_REQUEST__PART_HEADER:
            part = c.header.map { .header(VersionHeader(c: $0.pointee)) }
        case AIMASS__V1__UPLOAD_VERSION_REQUEST__PART_CHUNK:
            part = .chunk(ProtobufC.bytes(c.chunk))
        default:
            part = nil
        }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__UploadVersionRequest {
        var message = Aimass__V1__UploadVersionRequest()
        aimass__v1__upload_version_request__init(&message)
        switch part {
        case .header(let value)?:
            message.part_case = AIMASS__V1__UPLOAD_VERSION_REQUEST__PART_HEADER
            message.header = arena.box(value.cStruct(arena))
        case .chunk(let value)?:
            message.part_case = AIMASS__V1__UPLOAD_VERSION_REQUEST__PART_CHUNK
            message.chunk = arena.bytes(value)
        case nil:
            message.part_case = AIMASS__V1__UPLOAD_VERSION_REQUEST__PART__NOT_SET
        }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.VersionHeader`: Metadata of a version being uploaded.
public struct VersionHeader: WireMessage, Hashable {
    public var model: String
    public var description: String
    public var sizeBytes: Int64
    public var sha256: String
    public var manifest: [String: String]
    public var metrics: [String: Double]
    public var dependencies: [String]
    public var inputSchema: [SchemaField]
    public var outputSchema: [SchemaField]
    public var annotations: [String: String]

    public init(
        model: String = "",
        description: String = "",
        sizeBytes: Int64 = 0,
        sha256: String = "",
        manifest: [String: String] = [:],
        metrics: [String: Double] = [:],
        dependencies: [String] = [],
        inputSchema: [SchemaField] = [],
        outputSchema: [SchemaField] = [],
        annotations: [String: String] = [:]
    ) {
        self.model = model
        self.description = description
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.manifest = manifest
        self.metrics = metrics
        self.dependencies = dependencies
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "VersionHeader",
            unpack: aimass__v1__version_header__unpack,
            free: aimass__v1__version_header__free_unpacked
        ) { c in VersionHeader(c: c) }
    }

    init(c: Aimass__V1__VersionHeader) {
        model = ProtobufC.string(c.model)
        description = ProtobufC.string(c.description)
        sizeBytes = c.size_bytes
        sha256 = ProtobufC.string(c.sha256)
        manifest = cMap(c.manifest, count: c.n_manifest) {
            (ProtobufC.string($0.key), ProtobufC.string($0.value))
        }
        metrics = cMap(c.metrics, count: c.n_metrics) {
            (ProtobufC.string($0.key), $0.value)
        }
        dependencies = ProtobufC.strings(c.dependencies, count: c.n_dependencies)
        inputSchema = cMessages(c.input_schema, count: c.n_input_schema) { SchemaField(c: $0) }
        outputSchema = cMessages(c.output_schema, count: c.n_output_schema) { SchemaField(c: $0) }
        annotations = cMap(c.annotations, count: c.n_annotations) {
            (ProtobufC.string($0.key), ProtobufC.string($0.value))
        }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__VersionHeader {
        var message = Aimass__V1__VersionHeader()
        aimass__v1__version_header__init(&message)
        message.model = arena.string(model)
        message.description = arena.string(description)
        message.size_bytes = sizeBytes
        message.sha256 = arena.string(sha256)
        message.n_manifest = manifest.count
        message.manifest = arena.messages(manifest.keys.sorted().map { key in
            var entry = Aimass__V1__VersionHeader__ManifestEntry()
            aimass__v1__version_header__manifest_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = arena.string(manifest[key]!)
            return entry
        })
        message.n_metrics = metrics.count
        message.metrics = arena.messages(metrics.keys.sorted().map { key in
            var entry = Aimass__V1__VersionHeader__MetricsEntry()
            aimass__v1__version_header__metrics_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = metrics[key]!
            return entry
        })
        message.n_dependencies = dependencies.count
        message.dependencies = arena.strings(dependencies)
        message.n_input_schema = inputSchema.count
        message.input_schema = arena.messages(inputSchema.map { $0.cStruct(arena) })
        message.n_output_schema = outputSchema.count
        message.output_schema = arena.messages(outputSchema.map { $0.cStruct(arena) })
        message.n_annotations = annotations.count
        message.annotations = arena.messages(annotations.keys.sorted().map { key in
            var entry = Aimass__V1__VersionHeader__AnnotationsEntry()
            aimass__v1__version_header__annotations_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = arena.string(annotations[key]!)
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

/// `aimass.v1.DownloadVersionRequest`: Request of ModelRegistry.DownloadVersion.
public struct DownloadVersionRequest: WireMessage, Hashable {
    public var model: String
    public var version: VersionSelector?
    public var offset: Int64

    public init(
        model: String = "",
        version: VersionSelector? = nil,
        offset: Int64 = 0
    ) {
        self.model = model
        self.version = version
        self.offset = offset
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DownloadVersionRequest",
            unpack: aimass__v1__download_version_request__unpack,
            free: aimass__v1__download_version_request__free_unpacked
        ) { c in DownloadVersionRequest(c: c) }
    }

    init(c: Aimass__V1__DownloadVersionRequest) {
        model = ProtobufC.string(c.model)
        version = c.version.map { VersionSelector(c: $0.pointee) }
        offset = c.offset
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DownloadVersionRequest {
        var message = Aimass__V1__DownloadVersionRequest()
        aimass__v1__download_version_request__init(&message)
        message.model = arena.string(model)
        message.version = version.map { arena.box($0.cStruct(arena)) }
        message.offset = offset
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.DownloadVersionResponse`: One message of the DownloadVersion stream: the version first, then
/// chunks.
public struct DownloadVersionResponse: WireMessage, Hashable {
    /// The `part` oneof.
    public enum Part: Hashable, Sendable {
        case version(Version)
        case chunk([UInt8])
    }

    public var part: Part?

    public init(
        part: Part? = nil
    ) {
        self.part = part
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DownloadVersionResponse",
            unpack: aimass__v1__download_version_response__unpack,
            free: aimass__v1__download_version_response__free_unpacked
        ) { c in DownloadVersionResponse(c: c) }
    }

    init(c: Aimass__V1__DownloadVersionResponse) {
        switch c.part_case {
        case AIMASS__V1__DOWNLOAD_VERSION_RESPONSE__PART_VERSION:
            part = c.version.map { .version(Version(c: $0.pointee)) }
        case AIMASS__V1__DOWNLOAD_VERSION_RESPONSE__PART_CHUNK:
            part = .chunk(ProtobufC.bytes(c.chunk))
        default:
            part = nil
        }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DownloadVersionResponse {
        var message = Aimass__V1__DownloadVersionResponse()
        aimass__v1__download_version_response__init(&message)
        switch part {
        case .version(let value)?:
            message.part_case = AIMASS__V1__DOWNLOAD_VERSION_RESPONSE__PART_VERSION
            message.version = arena.box(value.cStruct(arena))
        case .chunk(let value)?:
            message.part_case = AIMASS__V1__DOWNLOAD_VERSION_RESPONSE__PART_CHUNK
            message.chunk = arena.bytes(value)
        case nil:
            message.part_case = AIMASS__V1__DOWNLOAD_VERSION_RESPONSE__PART__NOT_SET
        }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
