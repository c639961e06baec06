import CProtobufC
import RPCCore

/// A Swift message with a protobuf-c struct behind it: the message maps each of its fields to the struct's in one
/// call, and this protocol gives it the wire round trip of ``WireMessage`` through the struct's protobuf-c descriptor.
///
/// scripts/gen-swift-messages.py writes the conformances of the generated messages, for example:
///
/// ```swift
/// extension SchemaField: ProtobufCConvertible {
///     public static let cInit = aimass__v1__schema_field__init
///
///     public mutating func map(_ c: inout ProtobufCFields<Aimass__V1__SchemaField>) {
///         c.field(&name, \.name)
///         c.repeated(&tags, \.tags, count: \.n_tags)
///     }
/// }
/// ```
///
/// The requirements are public only because a public conformance needs public witnesses; callers use
/// ``WireMessage``. The wire round trip and the field helpers are `@inlinable`, so that each conformance gets them
/// specialised for its own struct rather than going through the protocol for every field.
public protocol ProtobufCConvertible: WireMessage, ProtobufCField where CValue == UnsafeMutablePointer<CMessage>? {
    /// The struct protoc-c generates for the message, e.g. `Aimass__V1__Model`.
    associatedtype CMessage

    /// The generated `…__init` of ``CMessage``: it sets the struct's descriptor and every field to its default.
    static var cInit: @Sendable (UnsafeMutablePointer<CMessage>?) -> Void { get }

    /// The message with every field at its default.
    init()

    /// Reads every field from `c` or writes it there, whichever way `c` goes (``ProtobufCFields``).
    mutating func map(_ c: inout ProtobufCFields<CMessage>)
}

extension ProtobufCConvertible {
    /// Reads the fields of an unpacked struct, whose pointers are valid only during the call.
    @inlinable public init(c: CMessage) {
        self.init()
        var fields = ProtobufCFields(reading: c)
        map(&fields)
    }

    /// The message as its protobuf-c struct, which points into `arena`.
    @inlinable public func cStruct(in arena: CArena) -> CMessage {
        var fields = ProtobufCFields(writing: Self.cDefault, in: arena)
        var message = self
        message.map(&fields)
        return fields.c
    }

    /// A message field's element: a pointer to the struct (never `nil` in an unpacked repeated field).
    @inlinable public init(cValue: UnsafeMutablePointer<CMessage>?) {
        self = cValue.map { Self(c: $0.pointee) } ?? Self()
    }

    @inlinable public func cValue(in arena: CArena) -> UnsafeMutablePointer<CMessage>? {
        arena.box(cStruct(in: arena))
    }

    /// Decodes the message with `protobuf_c_message_unpack`, reads it, and frees the C copy at once.
    @inlinable public init(wireBytes bytes: UnsafeRawBufferPointer) throws(RPCError) {
        let descriptor = Self.cDescriptor
        var empty: UInt8 = 0
        let unpacked = withUnsafePointer(to: &empty) { empty in
            // protobuf-c wants a pointer even for no bytes.
            protobuf_c_message_unpack(descriptor, nil, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty)
        }
        guard let unpacked else {
            throw RPCError(
                code: .internalError,
                message: "cannot parse \(String(cString: descriptor.pointee.name)): invalid protobuf encoding"
            )
        }
        defer { protobuf_c_message_free_unpacked(unpacked, nil) }
        self.init(c: UnsafeRawPointer(unpacked).load(as: CMessage.self))
    }

    /// Encodes the message with `protobuf_c_message_pack`.
    @inlinable public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var c = cStruct(in: arena)
            return ProtobufC.pack(&c)
        }
    }

    /// ``CMessage`` as ``cInit`` leaves it.
    @inlinable static var cDefault: CMessage {
        ProtobufC.initialized(cInit)
    }

    /// The descriptor that ``cInit`` sets: every protoc-c struct starts with its `ProtobufCMessage` base.
    @inlinable static var cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> {
        withUnsafeBytes(of: cDefault) { $0.load(as: ProtobufCMessage.self).descriptor }
    }
}

/// A Swift enum for a protobuf enum, converted to and from the C enum protoc-c generates for it.
///
/// A value this build does not know reads as the zero value, which proto3 requires every enum to have.
public protocol ProtobufCEnum: RawRepresentable<Int32>, Hashable, Sendable, ProtobufCField where CValue == CEnum {
    /// The enum protoc-c generates, e.g. `Aimass__V1__HealthStatus`.
    associatedtype CEnum: RawRepresentable where CEnum.RawValue: FixedWidthInteger
}

extension ProtobufCEnum {
    /// Reads a protobuf-c value; an unknown one reads as the zero value.
    @inlinable public init(cValue: CEnum) {
        self = Self(rawValue: Int32(truncatingIfNeeded: cValue.rawValue)) ?? Self(rawValue: 0)!
    }

    /// The protobuf-c value.
    @inlinable public func cValue(in _: CArena) -> CEnum {
        CEnum(rawValue: CEnum.RawValue(truncatingIfNeeded: rawValue))!
    }
}
