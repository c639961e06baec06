import CProtobufC
import RPCCore

/// Owns the C memory that a protobuf-c struct points into while it is being packed.
///
/// Encoding a Swift value builds a protobuf-c struct whose strings, bytes, sub-messages and
/// repeated fields are pointers. Each of those is allocated here and freed once, when the arena
/// is released after packing; the struct never outlives the `withArena` call that made it.
public final class CArena {
    /// Memory handed out from `block` (bump allocation), then from a new block when it is full; anything larger than
    /// a block gets an allocation of its own. One malloc per block instead of one (or two) per field: encoding a
    /// Recommend response of 10 items took ~40 mallocs.
    private var allocations: [UnsafeMutableRawPointer] = []
    private var block: UnsafeMutableRawPointer?
    private var used = 0
    private static let blockSize = 4096

    init() {}

    deinit {
        for allocation in allocations { allocation.deallocate() }
    }

    /// Uninitialised memory for `count` values of `T`, freed with the arena.
    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let size = MemoryLayout<T>.stride * max(count, 1)
        let alignment = max(MemoryLayout<T>.alignment, 16)
        guard size <= Self.blockSize / 4 else {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: alignment)
            allocations.append(memory)
            return memory.bindMemory(to: T.self, capacity: max(count, 1))
        }
        let start = (used + alignment - 1) & ~(alignment - 1)
        if let block, start + size <= Self.blockSize {
            used = start + size
            return (block + start).bindMemory(to: T.self, capacity: max(count, 1))
        }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: 16)
        allocations.append(fresh)
        block = fresh
        used = size
        return fresh.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy of a string.
    public func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        var value = value
        return value.withUTF8 { utf8 in
            let pointer = allocate(CChar.self, count: utf8.count + 1)
            if let base = utf8.baseAddress {
                UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: utf8.count)
            }
            pointer[utf8.count] = 0
            return pointer
        }
    }

    /// A copy of some bytes as protobuf-c binary data.
    public func bytes(_ value: [UInt8]) -> ProtobufCBinaryData {
        guard !value.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let pointer = allocate(UInt8.self, count: value.count)
        pointer.initialize(from: value, count: value.count)
        return ProtobufCBinaryData(len: value.count, data: pointer)
    }

    /// A heap copy of a struct (a sub-message).
    public func box<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: 1)
        pointer.initialize(to: value)
        return pointer
    }

    /// A heap array of values (a repeated scalar field); `nil` when empty.
    public func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = allocate(T.self, count: values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    /// A heap array of boxed structs (a repeated message field); `nil` when empty.
    public func messages<T>(_ values: [T]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
        array(values.map { Optional(box($0)) })
    }

    /// A heap array of strings (a repeated string field); `nil` when empty.
    public func strings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        array(values.map { Optional(string($0)) })
    }
}

/// Helpers shared by every hand-written protobuf-c conversion.
public enum ProtobufC {
    /// Runs `build` with a fresh arena, then packs the message it returns into bytes.
    ///
    /// `build` fills a protobuf-c struct (started with the generated `…__init`) and passes its
    /// `base` to `pack`, which returns the encoding.
    public static func encode(_ build: (CArena) -> [UInt8]) -> [UInt8] {
        let arena = CArena()
        return withExtendedLifetime(arena) { build(arena) }
    }

    /// Packs a generated message struct, whose first member is its `ProtobufCMessage` base.
    ///
    /// The pointer must be to the whole struct: protobuf-c reads every field at its offset from
    /// the base, so a pointer to a copy of `base` alone (which `&message.base` may give in an
    /// optimised build) would pack garbage.
    public static func pack<Message>(_ message: inout Message) -> [UInt8] {
        withUnsafeMutablePointer(to: &message) { pointer in
            UnsafeMutableRawPointer(pointer).withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { pack($0) }
        }
    }

    /// Packs a message given by its base pointer (into the whole struct).
    public static func pack(_ message: UnsafePointer<ProtobufCMessage>) -> [UInt8] {
        let size = protobuf_c_message_get_packed_size(message)
        guard size > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = protobuf_c_message_pack(message, buffer.baseAddress)
        }
    }

    /// Unpacks bytes with a generated `…__unpack` function, runs `read` on the struct, and frees it
    /// with the matching `…__free_unpacked` before returning.
    public static func decode<Message, Result>(
        _ bytes: UnsafeRawBufferPointer,
        name: String,
        unpack: (UnsafeMutablePointer<ProtobufCAllocator>?, Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<Message>?,
        free: (UnsafeMutablePointer<Message>?, UnsafeMutablePointer<ProtobufCAllocator>?) -> Void,
        read: (Message) throws(RPCError) -> Result
    ) throws(RPCError) -> Result {
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var empty: UInt8 = 0
        guard let message = withUnsafePointer(to: &empty, { unpack(nil, bytes.count, data ?? $0) }) else {
            throw RPCError(code: .internalError, message: "cannot parse \(name): invalid protobuf encoding")
        }
        defer { free(message, nil) }
        return try read(message.pointee)
    }

    /// A Swift string from a protobuf-c string field (`nil` reads as empty).
    public static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    /// Swift bytes from a protobuf-c bytes field.
    public static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let pointer = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: data.len))
    }

    /// The elements of a repeated message field, converted.
    public static func repeated<T, R>(
        _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?,
        count: Int,
        _ convert: (T) throws(RPCError) -> R
    ) throws(RPCError) -> [R] {
        guard let pointer, count > 0 else { return [] }
        var result: [R] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            if let element = pointer[index] { result.append(try convert(element.pointee)) }
        }
        return result
    }

    /// The elements of a repeated string field.
    public static func strings(_ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, count: Int) -> [String] {
        guard let pointer, count > 0 else { return [] }
        return (0..<count).map { string(pointer[$0]) }
    }

    /// The elements of a repeated scalar field.
    public static func scalars<T>(_ pointer: UnsafeMutablePointer<T>?, count: Int) -> [T] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}
