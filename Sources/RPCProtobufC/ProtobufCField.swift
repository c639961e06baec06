import CProtobufC

/// A Swift value that is stored in a protobuf-c struct as `CValue`: a scalar as itself, a bool as
/// `protobuf_c_boolean`, a string as a NUL-terminated `char *`, bytes as `ProtobufCBinaryData`, an enum as its C enum,
/// a message as a pointer to its struct.
///
/// A repeated field is an array of the same `CValue`s, so one conformance serves a field and its repeated form
/// (see ``ProtobufCFields``).
public protocol ProtobufCField {
    /// What protobuf-c stores for one value.
    associatedtype CValue

    /// Reads a value of an unpacked struct; what it points to is valid only during the call.
    init(cValue: CValue)

    /// The value as protobuf-c stores it; whatever it points to is allocated in `arena`.
    func cValue(in arena: CArena) -> CValue
}

/// A number that protobuf-c stores as the same Swift type.
public protocol ProtobufCScalar: ProtobufCField, BitwiseCopyable where CValue == Self {}

extension ProtobufCScalar {
    @inlinable public init(cValue: Self) { self = cValue }

    @inlinable public func cValue(in _: CArena) -> Self { self }
}

extension Int32: ProtobufCScalar {}
extension Int64: ProtobufCScalar {}
extension UInt32: ProtobufCScalar {}
extension UInt64: ProtobufCScalar {}
extension Float: ProtobufCScalar {}
extension Double: ProtobufCScalar {}

extension Bool: ProtobufCField {
    @inlinable public init(cValue: protobuf_c_boolean) { self = cValue != 0 }

    @inlinable public func cValue(in _: CArena) -> protobuf_c_boolean { self ? 1 : 0 }
}

extension String: ProtobufCField {
    /// A `nil` string reads as empty.
    @inlinable public init(cValue: UnsafeMutablePointer<CChar>?) { self = ProtobufC.string(cValue) }

    @inlinable public func cValue(in arena: CArena) -> UnsafeMutablePointer<CChar>? { arena.string(self) }
}

extension Array: ProtobufCField where Element == UInt8 {
    @inlinable public init(cValue: ProtobufCBinaryData) { self = ProtobufC.bytes(cValue) }

    @inlinable public func cValue(in arena: CArena) -> ProtobufCBinaryData { arena.bytes(self) }
}

/// A singular message field, which is absent when its pointer is `nil`.
extension Optional: ProtobufCField where Wrapped: ProtobufCConvertible {
    @inlinable public init(cValue: UnsafeMutablePointer<Wrapped.CMessage>?) { self = cValue.map { Wrapped(c: $0.pointee) } }

    @inlinable public func cValue(in arena: CArena) -> UnsafeMutablePointer<Wrapped.CMessage>? {
        flatMap { $0.cValue(in: arena) }
    }
}
