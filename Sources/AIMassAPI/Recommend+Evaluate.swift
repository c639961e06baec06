import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/recommend.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.EvalProtocol`: How the interactions are split for evaluation.
public enum EvalProtocol: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case leaveLastOneOut = 1
    case holdout8020 = 2

    /// Reads a protobuf-c value; a value this build does not know reads as `.unspecified`.
    init(c: Aimass__V1__EvalProtocol) {
        self = EvalProtocol(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? .unspecified
    }

    var cValue: Aimass__V1__EvalProtocol {
        Aimass__V1__EvalProtocol(rawValue: .init(truncatingIfNeeded: rawValue))
    }
}

/// `aimass.v1.EvaluateRequest`: Request of Recommend.Evaluate.
public struct EvaluateRequest: WireMessage, Hashable {
    public var model: String
    public var version: VersionSelector?
    public var `protocol`: EvalProtocol
    public var k: UInt32
    public var seed: UInt64
    public var dryRun: Bool

    public init(
        model: String = "",
        version: VersionSelector? = nil,
        `protocol`: EvalProtocol = .unspecified,
        k: UInt32 = 0,
        seed: UInt64 = 0,
        dryRun: Bool = false
    ) {
        self.model = model
        self.version = version
        self.protocol = `protocol`
        self.k = k
        self.seed = seed
        self.dryRun = dryRun
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "EvaluateRequest",
            unpack: aimass__v1__evaluate_request__unpack,
            free: aimass__v1__evaluate_request__free_unpacked
        ) { c in EvaluateRequest(c: c) }
    }

    init(c: Aimass__V1__EvaluateRequest) {
        model = ProtobufC.string(c.model)
        version = c.version.map { VersionSelector(c: $0.pointee) }
        `protocol` = EvalProtocol(c: c.protocol)
        k = c.k
        seed = c.seed
        dryRun = c.dry_run != 0
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__EvaluateRequest {
        var message = Aimass__V1__EvaluateRequest()
        aimass__v1__evaluate_request__init(&message)
        message.model = arena.string(model)
        message.version = version.map { arena.box($0.cStruct(arena)) }
        message.protocol = `protocol`.cValue
        message.k = k
        message.seed = seed
        message.dry_run = dryRun ? 1 : 0
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.EvaluateResponse`: Result of Recommend.Evaluate.
public struct EvaluateResponse: WireMessage, Hashable {
    public var model: String
    public var version: UInt32
    public var metrics: [String: Double]
    public var stored: Bool
    public var evaluatedAtMs: Int64

    public init(
        model: String = "",
        version: UInt32 = 0,
        metrics: [String: Double] = [:],
        stored: Bool = false,
        evaluatedAtMs: Int64 = 0
    ) {
        self.model = model
        self.version = version
        self.metrics = metrics
        self.stored = stored
        self.evaluatedAtMs = evaluatedAtMs
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "EvaluateResponse",
            unpack: aimass__v1__evaluate_response__unpack,
            free: aimass__v1__evaluate_response__free_unpacked
        ) { c in EvaluateResponse(c: c) }
    }

    init(c: Aimass__V1__EvaluateResponse) {
        model = ProtobufC.string(c.model)
        version = c.version
        metrics = cMap(c.metrics, count: c.n_metrics) {
            (ProtobufC.string($0.key), $0.value)
        }
        stored = c.stored != 0
        evaluatedAtMs = c.evaluated_at_ms
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__EvaluateResponse {
        var message = Aimass__V1__EvaluateResponse()
        aimass__v1__evaluate_response__init(&message)
        message.model = arena.string(model)
        message.version = version
        message.n_metrics = metrics.count
        message.metrics = arena.messages(metrics.keys.sorted().map { key in
            var entry = Aimass__V1__EvaluateResponse__MetricsEntry()
            aimass__v1__evaluate_response__metrics_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = metrics[key]!
            return entry
        })
        message.stored = stored ? 1 : 0
        message.evaluated_at_ms = evaluatedAtMs
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
