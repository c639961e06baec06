import RPCCore
import Testing

/// Encodes `value`, decodes the bytes, and expects the same value back.
func expectRoundTrip<M: WireMessage & Equatable>(
    _ value: M,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let bytes = value.wireBytes()
    let decoded = try M(wireBytes: bytes)
    #expect(decoded == value, "\(M.self) changed in a round trip", sourceLocation: sourceLocation)
}
