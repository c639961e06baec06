/// A message that can be encoded to and decoded from protobuf wire bytes.
///
/// The RPC layer moves bytes; typed handlers and clients use this protocol at the edge.
/// Conformances are written by hand over protobuf-c (see the `RPCProtobufC` module).
public protocol WireMessage: Sendable {
    /// Decodes a message; throws ``RPCError`` with ``StatusCode/internalError`` for invalid bytes,
    /// as gRPC requires for a message that cannot be parsed.
    init(wireBytes: UnsafeRawBufferPointer) throws(RPCError)

    /// Encodes the message.
    func wireBytes() -> [UInt8]
}

extension WireMessage {
    /// Decodes a message from a byte array.
    @inlinable
    public init(wireBytes bytes: [UInt8]) throws(RPCError) {
        var result: Result<Self, RPCError> = .failure(RPCError(code: .internalError, message: "unreachable"))
        bytes.withUnsafeBytes { raw in
            do throws(RPCError) { result = .success(try Self(wireBytes: raw)) } catch { result = .failure(error) }
        }
        self = try result.get()
    }
}
