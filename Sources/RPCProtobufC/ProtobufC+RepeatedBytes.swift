import CProtobufC

// Repeated `bool` and `bytes` fields, which protobuf-c holds as arrays of `protobuf_c_boolean` (an `int`) and of
// `ProtobufCBinaryData`, and messages as the values of a map field (the Open Inference Protocol's parameters).

extension ProtobufC {
    /// A repeated bool field.
    public static func repeated(_ pointer: UnsafeMutablePointer<protobuf_c_boolean>?, count: Int) -> [Bool] {
        elements(pointer, count).map { $0 != 0 }
    }

    /// A repeated bytes field.
    public static func repeated(_ pointer: UnsafeMutablePointer<ProtobufCBinaryData>?, count: Int) -> [[UInt8]] {
        elements(pointer, count).map(bytes)
    }
}

extension CArena {
    /// A repeated bool field.
    public func repeated(_ values: [Bool]) -> (Int, UnsafeMutablePointer<protobuf_c_boolean>?) {
        (values.count, array(values.map { $0 ? 1 : 0 }))
    }

    /// A repeated bytes field; each element is copied into the arena.
    public func repeated(_ values: [[UInt8]]) -> (Int, UnsafeMutablePointer<ProtobufCBinaryData>?) {
        (values.count, array(values.map(bytes)))
    }
}

/// A message as the value of a map field: protobuf-c's entry holds a pointer to the message's struct.
extension ProtobufCMapValue where Self: ProtobufCConvertible {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_MESSAGE }

    public init(protobufC field: UnsafeRawPointer) {
        let pointer = field.load(as: UnsafeMutablePointer<CMessage>?.self)
        self = pointer.map { Self(c: $0.pointee) } ?? Self(c: ProtobufC.initialized(Self.cInit))
    }

    public func store(protobufC field: UnsafeMutableRawPointer, in arena: CArena) {
        field.storeBytes(of: arena.box(cStruct(in: arena)), as: UnsafeMutablePointer<CMessage>.self)
    }
}
