import CProtobufC

/// The protobuf-c struct of one message on its way in or out: ``ProtobufCConvertible/map(_:)`` names each field
/// once, with the Swift property and the C field, and this copies it the way the struct goes.
///
/// Reading (decoding), every call sets the Swift property from the unpacked struct; writing (encoding), it sets the C
/// field from the property, allocating what the field points to in the arena. A repeated field is a count and a
/// pointer in C, named together.
public struct ProtobufCFields<CMessage> {
    /// The struct: the unpacked one when reading, the one being filled when writing.
    public var c: CMessage
    /// Where written fields point to; `nil` when reading.
    @usableFromInline let arena: CArena?

    @inlinable init(reading c: CMessage) {
        self.c = c
        arena = nil
    }

    @inlinable init(writing c: CMessage, in arena: CArena) {
        self.c = c
        self.arena = arena
    }

    /// Whether the struct is being read into the Swift message (else written from it).
    @inlinable public var isReading: Bool { arena == nil }

    /// A singular field.
    @inlinable public mutating func field<Value: ProtobufCField>(
        _ value: inout Value,
        _ field: WritableKeyPath<CMessage, Value.CValue>
    ) {
        if let arena {
            c[keyPath: field] = value.cValue(in: arena)
        } else {
            value = Value(cValue: c[keyPath: field])
        }
    }

    /// A repeated field: `count` elements at `field`.
    @inlinable public mutating func repeated<Element: ProtobufCField>(
        _ values: inout [Element],
        _ field: WritableKeyPath<CMessage, UnsafeMutablePointer<Element.CValue>?>,
        count: WritableKeyPath<CMessage, Int>
    ) {
        if let arena {
            c[keyPath: count] = values.count
            c[keyPath: field] = arena.array(values.map { $0.cValue(in: arena) })
        } else {
            values = ProtobufC.elements(c[keyPath: field], c[keyPath: count]).map(Element.init(cValue:))
        }
    }

    /// A map field, which protobuf-c holds as `count` `…Entry` messages at `field`.
    @inlinable public mutating func map<Entry, Value: ProtobufCMapValue>(
        _ values: inout [String: Value],
        _ field: WritableKeyPath<CMessage, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?>,
        count: WritableKeyPath<CMessage, Int>
    ) {
        if let arena {
            let entry = entryDescriptor(field)
            (c[keyPath: count], c[keyPath: field]) = arena.map(values) { protobuf_c_message_init(entry, $0) }
        } else {
            values = ProtobufC.map(c[keyPath: field], count: c[keyPath: count])
        }
    }

    /// The descriptor of the entries of the map field at `field`, found in the struct's descriptor by the field's
    /// offset.
    @usableFromInline func entryDescriptor(_ field: PartialKeyPath<CMessage>) -> UnsafePointer<ProtobufCMessageDescriptor> {
        let message = withUnsafeBytes(of: c) { $0.load(as: ProtobufCMessage.self).descriptor.pointee }
        let fields = UnsafeBufferPointer(start: message.fields, count: Int(message.n_fields))
        let offset = MemoryLayout<CMessage>.offset(of: field)
        guard let entry = fields.first(where: { Int($0.offset) == offset && $0.type == PROTOBUF_C_TYPE_MESSAGE }),
            let descriptor = entry.descriptor
        else { preconditionFailure("\(String(cString: message.name)) has no map field at offset \(offset ?? -1)") }
        return descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
    }

    /// The value of one case of a oneof, read from `field` (the oneof's `…_case` says it is the one set).
    @inlinable public func oneof<Value: ProtobufCField>(_ field: KeyPath<CMessage, Value.CValue>) -> Value {
        Value(cValue: c[keyPath: field])
    }

    /// Sets one case of a oneof: `value` at `field`, and the oneof's `…_case` field `selected` to that case.
    @inlinable public mutating func oneof<Value: ProtobufCField, Case>(
        _ value: Value,
        _ field: WritableKeyPath<CMessage, Value.CValue>,
        selected: WritableKeyPath<CMessage, Case>,
        _ which: Case
    ) {
        guard let arena else { return }
        c[keyPath: field] = value.cValue(in: arena)
        c[keyPath: selected] = which
    }
}
