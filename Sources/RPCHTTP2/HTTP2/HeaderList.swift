internal import CNGHTTP2

/// A list of header fields to submit, laid out so that nghttp2 can read it.
///
/// nghttp2 copies every name and value during the submit call ("This function creates copies of
/// all name/value pairs in |nva|", nghttp2.h), so the pointers only need to live for that call.
/// The fixed blocks sent on every call (``prepared(_:)``) are laid out once for the process.
struct HeaderList {
    private(set) var fields: [(name: String, value: String)] = []
    private var block: PreparedHeaderBlock?

    init() {}

    init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// A header list laid out once, to be submitted many times without rebuilding it.
    static func prepared(_ fields: [(String, String)]) -> HeaderList {
        var list = HeaderList(fields)
        list.block = PreparedHeaderBlock(list.fields)
        return list
    }

    mutating func add(_ name: String, _ value: String) {
        block = nil
        fields.append((name: name, value: value))
    }

    var isEmpty: Bool { fields.isEmpty }

    /// Calls `body` with an `nghttp2_nv` array pointing at one contiguous copy of every field.
    func withNV<R>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        if let block { return body(block.nva, block.count) }
        var storage = [UInt8]()
        var offsets: [(Int, Int, Int, Int)] = []
        offsets.reserveCapacity(fields.count)
        for field in fields {
            let nameStart = storage.count
            storage.append(contentsOf: field.name.utf8)
            let valueStart = storage.count
            storage.append(contentsOf: field.value.utf8)
            offsets.append((nameStart, valueStart - nameStart, valueStart, storage.count - valueStart))
        }
        storage.append(0)  // never empty, so the base address below exists
        return storage.withUnsafeMutableBufferPointer { bytes in
            let base = bytes.baseAddress!  // non-empty: a zero byte was appended above
            var nva = [nghttp2_nv]()
            nva.reserveCapacity(max(1, offsets.count))
            for (nameStart, nameLength, valueStart, valueLength) in offsets {
                nva.append(
                    nghttp2_nv(
                        name: base + nameStart,
                        value: base + valueStart,
                        namelen: nameLength,
                        valuelen: valueLength,
                        flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
                    )
                )
            }
            if nva.isEmpty {
                // nghttp2 reads no entry when the count is 0, but wants a valid pointer.
                nva.append(nghttp2_nv(name: base, value: base, namelen: 0, valuelen: 0, flags: 0))
                return nva.withUnsafeBufferPointer { body($0.baseAddress!, 0) }
            }
            return nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }
}

/// Header fields copied once into memory that lives as long as the process (the blocks are
/// `static let`s), with nghttp2's NO_COPY flags, so nghttp2 neither copies nor frees them.
final class PreparedHeaderBlock: @unchecked Sendable {
    // Immutable after init; the memory is never freed (process lifetime), so sharing is safe.
    let nva: UnsafeMutablePointer<nghttp2_nv>
    let count: Int

    init(_ fields: [(name: String, value: String)]) {
        count = fields.count
        nva = .allocate(capacity: max(1, fields.count))
        for (index, field) in fields.enumerated() {
            let name = Self.copy(field.name)
            let value = Self.copy(field.value)
            let flags = NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue
            (nva + index).initialize(
                to: nghttp2_nv(name: name.pointer, value: value.pointer, namelen: name.count, valuelen: value.count, flags: UInt8(flags))
            )
        }
    }

    private static func copy(_ text: String) -> (pointer: UnsafeMutablePointer<UInt8>, count: Int) {
        let bytes = Array(text.utf8)
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
        pointer.initialize(from: bytes, count: bytes.count)
        return (pointer, bytes.count)
    }
}
