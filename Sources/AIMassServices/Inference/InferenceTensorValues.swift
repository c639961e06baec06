import AIMassAPI
import RPCCore

/// The elements of one checked input tensor, from its `contents` or its `raw_input_contents` entry.
///
/// Raw layouts follow the protocol: BYTES elements each as a 4-byte little-endian length and the bytes, INT32 as 4
/// little-endian bytes, BOOL as one byte.
enum InferenceTensorValues: Sendable, Hashable {
    case strings([String])
    case int32s([Int32])
    case bools([Bool])

    /// Checks `tensor` against `spec` (datatype, shape, element count) and decodes its elements.
    init(
        _ tensor: ModelInferRequest.InferInputTensor,
        spec: InferenceTensorSpec.Input,
        raw: [UInt8]?
    ) throws(RPCError) {
        let name = tensor.name
        guard tensor.datatype == spec.datatype else {
            throw Self.invalid(
                name,
                "expected datatype \(spec.datatype), got \(tensor.datatype.isEmpty ? "none" : tensor.datatype)"
            )
        }
        let count: Int
        switch spec {
        case .userId, .seedItems:
            guard tensor.shape.count == 1, tensor.shape[0] >= 1 else {
                let what = spec == .userId ? "[B] (one id per user)" : "[n] (the seed item ids)"
                throw Self.invalid(
                    name,
                    "expected shape \(what) with at least one element, got \(Self.shape(tensor.shape))"
                )
            }
            count = Int(clamping: tensor.shape[0])
        case .k, .excludeSeen:
            guard tensor.shape == [1] else {
                throw Self.invalid(name, "expected shape [1], got \(Self.shape(tensor.shape))")
            }
            count = 1
        }
        switch spec {
        case .userId, .seedItems:
            let elements = try raw.map { raw throws(RPCError) in try Self.rawBytes(raw, name: name) }
                ?? tensor.contents?.bytesContents ?? []
            try Self.checkCount(elements.count, count, name)
            var strings: [String] = []
            strings.reserveCapacity(count)
            for element in elements {
                guard let string = String(validating: element, as: UTF8.self), !string.isEmpty else {
                    throw Self.invalid(
                        name,
                        "expected non-empty UTF-8 ids, got \(element.isEmpty ? "an empty one" : "invalid UTF-8")"
                    )
                }
                strings.append(string)
            }
            self = .strings(strings)
        case .k:
            let elements = try raw.map { raw throws(RPCError) in try Self.rawInt32s(raw, name: name) }
                ?? tensor.contents?.intContents ?? []
            try Self.checkCount(elements.count, count, name)
            self = .int32s(elements)
        case .excludeSeen:
            let elements = raw.map { $0.map { $0 != 0 } } ?? tensor.contents?.boolContents ?? []
            try Self.checkCount(elements.count, count, name)
            self = .bools(elements)
        }
    }

    /// BYTES elements of a raw entry: each a 4-byte little-endian length, then that many bytes.
    static func rawBytes(_ raw: [UInt8], name: String) throws(RPCError) -> [[UInt8]] {
        var elements: [[UInt8]] = []
        var offset = 0
        while offset < raw.count {
            guard raw.count - offset >= 4 else {
                throw invalid(name, "raw BYTES contents end inside an element's 4-byte length at byte \(offset)")
            }
            let length = (0..<4).reduce(0) { $0 | Int(raw[offset + $1]) << (8 * $1) }
            offset += 4
            guard raw.count - offset >= length else {
                throw invalid(
                    name,
                    "raw BYTES element at byte \(offset - 4) says \(length) bytes, \(raw.count - offset) remain"
                )
            }
            elements.append(Array(raw[offset..<offset + length]))
            offset += length
        }
        return elements
    }

    /// INT32 elements of a raw entry, little-endian.
    static func rawInt32s(_ raw: [UInt8], name: String) throws(RPCError) -> [Int32] {
        guard raw.count % 4 == 0 else {
            throw invalid(name, "raw INT32 contents of \(raw.count) bytes: expected 4 per element")
        }
        return stride(from: 0, to: raw.count, by: 4).map { offset in
            Int32(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[offset + $1]) << (8 * UInt32($1)) })
        }
    }

    private static func checkCount(_ actual: Int, _ expected: Int, _ name: String) throws(RPCError) {
        guard actual == expected else {
            throw invalid(
                name,
                "its shape holds \(expected) element\(expected == 1 ? "" : "s"), its contents \(actual)"
            )
        }
    }

    static func shape(_ shape: [Int64]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    static func invalid(_ name: String, _ message: String) -> RPCError {
        RPCError(code: .invalidArgument, message: "input tensor '\(name)': \(message)")
    }
}
