internal import CNGHTTP2

/// A list of header fields to submit, laid out so that nghttp2 can read it.
///
/// nghttp2 copies every name and value during the submit call ("This function creates copies of
/// all name/value pairs in |nva|", nghttp2.h), so the pointers only need to live for that call.
struct HeaderList {
    private(set) var fields: [(name: String, value: String)] = []

    init() {}

    init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    var isEmpty: Bool { fields.isEmpty }

    /// Calls `body` with an `nghttp2_nv` array pointing at one contiguous copy of every field.
    func withNV<R>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
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
        if storage.isEmpty { storage.append(0) }
        return storage.withUnsafeMutableBufferPointer { bytes in
            let base = bytes.baseAddress!  // non-empty: a zero byte was appended above
            var nva = [nghttp2_nv]()
            nva.reserveCapacity(offsets.count)
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
            return nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }
}
