import CProtobufC
import RPCCore

/// A Swift message with a protobuf-c struct behind it: the message maps its fields, and this protocol gives it the
/// wire round trip of ``WireMessage`` through the struct's protobuf-c descriptor.
///
/// scripts/gen-swift-messages.py writes the conformances of the aimass.v1 messages, for example:
///
/// ```swift
/// extension SchemaField: ProtobufCConvertible {
///     public static let cInit = aimass__v1__schema_field__init
///
///     public init(c: Aimass__V1__SchemaField) {
///         name = ProtobufC.string(c.name)
///     }
///
///     public func fill(_ c: inout Aimass__V1__SchemaField, in arena: CArena) {
///         c.name = arena.string(name)
///     }
/// }
/// ```
///
/// The requirements are public only because a public conformance needs public witnesses; callers use
/// ``WireMessage``. The wire round trip and the field helpers are `@inlinable`, so that each conformance gets them
/// specialised for its own struct rather than going through the protocol for every field.
public protocol ProtobufCConvertible: WireMessage {
    /// The struct protoc-c generates for the message, e.g. `Aimass__V1__Model`.
    associatedtype CMessage

    /// The generated `…__init` of ``CMessage``: it sets the struct's descriptor and every field to its default.
    static var cInit: @Sendable (UnsafeMutablePointer<CMessage>?) -> Void { get }

    /// Reads the fields of an unpacked struct, whose pointers are valid only during the call.
    init(c: CMessage)

    /// Writes the fields into a struct that ``cInit`` prepared; whatever the struct points to is allocated in `arena`.
    func fill(_ c: inout CMessage, in arena: CArena)
}

extension ProtobufCConvertible {
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

    /// The message as its protobuf-c struct, which points into `arena`.
    @inlinable public func cStruct(in arena: CArena) -> CMessage {
        var c = Self.cDefault
        fill(&c, in: arena)
        return c
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
public protocol ProtobufCEnum: RawRepresentable<Int32>, Hashable, Sendable {
    /// The enum protoc-c generates, e.g. `Aimass__V1__HealthStatus`.
    associatedtype CEnum: RawRepresentable where CEnum.RawValue: FixedWidthInteger
}

extension ProtobufCEnum {
    /// Reads a protobuf-c value; an unknown one reads as the zero value.
    @inlinable public init(c: CEnum) {
        self = Self(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? Self(rawValue: 0)!
    }

    /// The protobuf-c value.
    @inlinable public var cValue: CEnum {
        CEnum(rawValue: CEnum.RawValue(truncatingIfNeeded: rawValue))!
    }
}
