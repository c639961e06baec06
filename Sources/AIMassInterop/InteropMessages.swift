import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the grpc.testing messages, converted by hand to and from protobuf-c.

/// `grpc.testing.Empty`.
public struct Empty: WireMessage, Hashable {
    public init() {}
    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Empty",
            unpack: grpc__testing__empty__unpack,
            free: grpc__testing__empty__free_unpacked
        ) { _ in Empty() }
    }
    public func wireBytes() -> [UInt8] { [] }
}

/// `grpc.testing.Payload`: a body of opaque bytes.
public struct Payload: Hashable, Sendable {
    public var body: [UInt8]
    public init(body: [UInt8] = []) { self.body = body }

    init(c: Grpc__Testing__Payload) { body = ProtobufC.bytes(c.body) }

    func cStruct(_ arena: CArena) -> Grpc__Testing__Payload {
        var message = Grpc__Testing__Payload()
        grpc__testing__payload__init(&message)
        message.body = arena.bytes(body)
        return message
    }

    static func zeros(_ count: Int) -> Payload { Payload(body: [UInt8](repeating: 0, count: max(0, count))) }
}

/// `grpc.testing.EchoStatus`: a status the server is asked to answer with.
public struct EchoStatus: Hashable, Sendable {
    public var code: Int32
    public var message: String
    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(c: Grpc__Testing__EchoStatus) {
        code = c.code
        message = ProtobufC.string(c.message)
    }

    func cStruct(_ arena: CArena) -> Grpc__Testing__EchoStatus {
        var message = Grpc__Testing__EchoStatus()
        grpc__testing__echo_status__init(&message)
        message.code = code
        message.message = arena.string(self.message)
        return message
    }
}

func boolValue(_ pointer: UnsafeMutablePointer<Grpc__Testing__BoolValue>?) -> Bool? {
    pointer.map { $0.pointee.value != 0 }
}

func boolValue(_ value: Bool?, _ arena: CArena) -> UnsafeMutablePointer<Grpc__Testing__BoolValue>? {
    guard let value else { return nil }
    var message = Grpc__Testing__BoolValue()
    grpc__testing__bool_value__init(&message)
    message.value = value ? 1 : 0
    return arena.box(message)
}

/// `grpc.testing.SimpleRequest`.
public struct SimpleRequest: WireMessage, Hashable {
    public var responseSize: Int32 = 0
    public var payload: Payload?
    public var responseCompressed: Bool?
    public var responseStatus: EchoStatus?
    public var expectCompressed: Bool?

    public init(
        responseSize: Int32 = 0,
        payload: Payload? = nil,
        responseCompressed: Bool? = nil,
        responseStatus: EchoStatus? = nil,
        expectCompressed: Bool? = nil
    ) {
        self.responseSize = responseSize
        self.payload = payload
        self.responseCompressed = responseCompressed
        self.responseStatus = responseStatus
        self.expectCompressed = expectCompressed
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SimpleRequest",
            unpack: grpc__testing__simple_request__unpack,
            free: grpc__testing__simple_request__free_unpacked
        ) { c in
            SimpleRequest(
                responseSize: c.response_size,
                payload: c.payload.map { Payload(c: $0.pointee) },
                responseCompressed: boolValue(c.response_compressed),
                responseStatus: c.response_status.map { EchoStatus(c: $0.pointee) },
                expectCompressed: boolValue(c.expect_compressed)
            )
        }
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = Grpc__Testing__SimpleRequest()
            grpc__testing__simple_request__init(&message)
            message.response_size = responseSize
            message.payload = payload.map { arena.box($0.cStruct(arena)) }
            message.response_compressed = boolValue(responseCompressed, arena)
            message.response_status = responseStatus.map { arena.box($0.cStruct(arena)) }
            message.expect_compressed = boolValue(expectCompressed, arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `grpc.testing.SimpleResponse`.
public struct SimpleResponse: WireMessage, Hashable {
    public var payload: Payload?

    public init(payload: Payload? = nil) { self.payload = payload }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SimpleResponse",
            unpack: grpc__testing__simple_response__unpack,
            free: grpc__testing__simple_response__free_unpacked
        ) { c in SimpleResponse(payload: c.payload.map { Payload(c: $0.pointee) }) }
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = Grpc__Testing__SimpleResponse()
            grpc__testing__simple_response__init(&message)
            message.payload = payload.map { arena.box($0.cStruct(arena)) }
            return ProtobufC.pack(&message)
        }
    }
}

/// `grpc.testing.StreamingInputCallRequest`.
public struct StreamingInputCallRequest: WireMessage, Hashable {
    public var payload: Payload?
    public var expectCompressed: Bool?

    public init(payload: Payload? = nil, expectCompressed: Bool? = nil) {
        self.payload = payload
        self.expectCompressed = expectCompressed
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "StreamingInputCallRequest",
            unpack: grpc__testing__streaming_input_call_request__unpack,
            free: grpc__testing__streaming_input_call_request__free_unpacked
        ) { c in
            StreamingInputCallRequest(
                payload: c.payload.map { Payload(c: $0.pointee) },
                expectCompressed: boolValue(c.expect_compressed)
            )
        }
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = Grpc__Testing__StreamingInputCallRequest()
            grpc__testing__streaming_input_call_request__init(&message)
            message.payload = payload.map { arena.box($0.cStruct(arena)) }
            message.expect_compressed = boolValue(expectCompressed, arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `grpc.testing.StreamingInputCallResponse`.
public struct StreamingInputCallResponse: WireMessage, Hashable {
    public var aggregatedPayloadSize: Int32

    public init(aggregatedPayloadSize: Int32) { self.aggregatedPayloadSize = aggregatedPayloadSize }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "StreamingInputCallResponse",
            unpack: grpc__testing__streaming_input_call_response__unpack,
            free: grpc__testing__streaming_input_call_response__free_unpacked
        ) { c in StreamingInputCallResponse(aggregatedPayloadSize: c.aggregated_payload_size) }
    }

    public func wireBytes() -> [UInt8] {
        var message = Grpc__Testing__StreamingInputCallResponse()
        grpc__testing__streaming_input_call_response__init(&message)
        message.aggregated_payload_size = aggregatedPayloadSize
        return ProtobufC.pack(&message)
    }
}

/// `grpc.testing.ResponseParameters`.
public struct ResponseParameters: Hashable, Sendable {
    public var size: Int32
    public var intervalMicroseconds: Int32
    public var compressed: Bool?

    public init(size: Int32, intervalMicroseconds: Int32 = 0, compressed: Bool? = nil) {
        self.size = size
        self.intervalMicroseconds = intervalMicroseconds
        self.compressed = compressed
    }
}

/// `grpc.testing.StreamingOutputCallRequest`.
public struct StreamingOutputCallRequest: WireMessage, Hashable {
    public var responseParameters: [ResponseParameters]
    public var payload: Payload?
    public var responseStatus: EchoStatus?

    public init(responseParameters: [ResponseParameters] = [], payload: Payload? = nil, responseStatus: EchoStatus? = nil) {
        self.responseParameters = responseParameters
        self.payload = payload
        self.responseStatus = responseStatus
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "StreamingOutputCallRequest",
            unpack: grpc__testing__streaming_output_call_request__unpack,
            free: grpc__testing__streaming_output_call_request__free_unpacked
        ) { (c) throws(RPCError) in
            StreamingOutputCallRequest(
                responseParameters: try ProtobufC.repeated(c.response_parameters, count: c.n_response_parameters) {
                    (p) throws(RPCError) in
                    ResponseParameters(size: p.size, intervalMicroseconds: p.interval_us, compressed: boolValue(p.compressed))
                },
                payload: c.payload.map { Payload(c: $0.pointee) },
                responseStatus: c.response_status.map { EchoStatus(c: $0.pointee) }
            )
        }
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = Grpc__Testing__StreamingOutputCallRequest()
            grpc__testing__streaming_output_call_request__init(&message)
            let parameters = responseParameters.map { parameter -> Grpc__Testing__ResponseParameters in
                var c = Grpc__Testing__ResponseParameters()
                grpc__testing__response_parameters__init(&c)
                c.size = parameter.size
                c.interval_us = parameter.intervalMicroseconds
                c.compressed = boolValue(parameter.compressed, arena)
                return c
            }
            message.n_response_parameters = parameters.count
            message.response_parameters = arena.messages(parameters)
            message.payload = payload.map { arena.box($0.cStruct(arena)) }
            message.response_status = responseStatus.map { arena.box($0.cStruct(arena)) }
            return ProtobufC.pack(&message)
        }
    }
}

/// `grpc.testing.StreamingOutputCallResponse`.
public struct StreamingOutputCallResponse: WireMessage, Hashable {
    public var payload: Payload?

    public init(payload: Payload? = nil) { self.payload = payload }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "StreamingOutputCallResponse",
            unpack: grpc__testing__streaming_output_call_response__unpack,
            free: grpc__testing__streaming_output_call_response__free_unpacked
        ) { c in StreamingOutputCallResponse(payload: c.payload.map { Payload(c: $0.pointee) }) }
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = Grpc__Testing__StreamingOutputCallResponse()
            grpc__testing__streaming_output_call_response__init(&message)
            message.payload = payload.map { arena.box($0.cStruct(arena)) }
            return ProtobufC.pack(&message)
        }
    }
}
