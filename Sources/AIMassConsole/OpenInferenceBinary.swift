import AIMassAPI
import Foundation
import RPCCore

/// The binary tensor data extension of the Open Inference Protocol's REST form (KServe's and Triton's), which
/// `tritonclient.http` uses by default: a body is a JSON header of `Inference-Header-Content-Length` bytes followed by
/// the tensors' bytes, each input that has the parameter `binary_data_size` taking that many of them in order; an
/// output asked for with `binary_data` (or every output, with the request parameter `binary_data_output`) comes back
/// the same way.
///
/// Tensor bytes are little-endian, row-major, without padding; a BOOL is one byte (0 or 1); a BYTES element is a
/// 4-byte little-endian length and its bytes. This type turns them into a tensor's typed contents and back, so that
/// the gateway speaks contents to `inference.GRPCInferenceService` whatever the HTTP client sent.
enum OpenInferenceBinary {
    /// The request header that announces the extension: the length of the JSON part of the body.
    static let headerLengthField = "Inference-Header-Content-Length"

    /// Splits a body at `headerLength` (the header's value, `nil` when absent: all JSON).
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` when the value is not a length within the body.
    static func split(_ body: [UInt8], headerLength: String?) throws(RPCError) -> (json: ArraySlice<UInt8>, binary: ArraySlice<UInt8>) {
        guard let headerLength else { return (body[...], []) }
        guard let length = Int(headerLength.trimmingCharacters(in: .whitespaces)), length >= 0, length <= body.count else {
            throw RPCError(
                code: .invalidArgument,
                message: "\(headerLengthField) must be the length of the JSON header (0...\(body.count) for this body), got '\(headerLength)'")
        }
        return (body[..<length], body[length...])
    }

    /// The typed contents of `count` elements of `datatype` encoded in `raw`.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` naming the tensor when the bytes do not hold `count` elements, or the
    ///   datatype has no contents field (FP16, BF16: this server's models take none).
    static func contents(_ raw: ArraySlice<UInt8>, datatype: String, count: Int, name: String) throws(RPCError) -> InferTensorContents {
        var contents = InferTensorContents()
        if datatype == "BYTES" {
            var reader = LittleEndianReader(raw)
            while !reader.atEnd {
                guard let length = reader.uint32().map(Int.init), let element = reader.bytes(length) else {
                    throw invalid(name, "its binary BYTES data ends inside an element (each is a 4-byte little-endian length, then the bytes)")
                }
                contents.bytesContents.append(Array(element))
            }
            guard contents.bytesContents.count == count else {
                throw invalid(name, "its shape holds \(count) element\(count == 1 ? "" : "s"), its binary data \(contents.bytesContents.count)")
            }
            return contents
        }
        guard let size = elementSize(datatype) else {
            throw invalid(name, "datatype '\(datatype)' is not one this server reads: use BOOL, BYTES, INT8..INT64, UINT8..UINT64, FP32 or FP64")
        }
        guard raw.count == count * size else {
            throw invalid(name, "its shape holds \(count) element\(count == 1 ? "" : "s") of \(size) byte\(size == 1 ? "" : "s") of \(datatype), its binary data is \(raw.count) bytes")
        }
        var reader = LittleEndianReader(raw)
        for _ in 0..<count {
            // The size was checked above: every read succeeds.
            let bits = reader.word(size) ?? 0
            switch datatype {
            case "BOOL": contents.boolContents.append(bits != 0)
            case "INT8": contents.intContents.append(Int32(Int8(truncatingIfNeeded: bits)))
            case "INT16": contents.intContents.append(Int32(Int16(truncatingIfNeeded: bits)))
            case "INT32": contents.intContents.append(Int32(truncatingIfNeeded: bits))
            case "INT64": contents.int64Contents.append(Int64(bitPattern: bits))
            case "UINT8", "UINT16", "UINT32": contents.uintContents.append(UInt32(truncatingIfNeeded: bits))
            case "UINT64": contents.uint64Contents.append(bits)
            case "FP32": contents.fp32Contents.append(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
            default: contents.fp64Contents.append(Double(bitPattern: bits))
            }
        }
        return contents
    }

    /// `contents` of `datatype` as the extension's bytes (the inverse of ``contents(_:datatype:count:name:)``).
    static func bytes(_ contents: InferTensorContents, datatype: String) -> [UInt8] {
        var out: [UInt8] = []
        func put(_ value: UInt64, _ size: Int) {
            for index in 0..<size { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
        }
        switch datatype {
        case "BYTES":
            for element in contents.bytesContents {
                put(UInt64(element.count), 4)
                out.append(contentsOf: element)
            }
        case "BOOL": for flag in contents.boolContents { out.append(flag ? 1 : 0) }
        case "INT8", "INT16", "INT32":
            let size = elementSize(datatype) ?? 4
            for value in contents.intContents { put(UInt64(bitPattern: Int64(value)), size) }
        case "INT64": for value in contents.int64Contents { put(UInt64(bitPattern: value), 8) }
        case "UINT8", "UINT16", "UINT32":
            let size = elementSize(datatype) ?? 4
            for value in contents.uintContents { put(UInt64(value), size) }
        case "UINT64": for value in contents.uint64Contents { put(value, 8) }
        case "FP32": for value in contents.fp32Contents { put(UInt64(value.bitPattern), 4) }
        case "FP64": for value in contents.fp64Contents { put(value.bitPattern, 8) }
        default: break
        }
        return out
    }

    /// The size in bytes of one element of a fixed-size datatype this server reads.
    static func elementSize(_ datatype: String) -> Int? {
        switch datatype {
        case "BOOL", "INT8", "UINT8": 1
        case "INT16", "UINT16": 2
        case "INT32", "UINT32", "FP32": 4
        case "INT64", "UINT64", "FP64": 8
        default: nil
        }
    }

    static func invalid(_ name: String, _ message: String) -> RPCError { OpenInferenceJSON.invalid(name, message) }
}

/// Reads little-endian integers and byte runs off a slice; `nil` when fewer bytes remain than asked for.
struct LittleEndianReader {
    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    var atEnd: Bool { rest.isEmpty }
    /// The bytes not read yet.
    var remaining: Int { rest.count }

    mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, rest.count >= count else { return nil }
        defer { rest = rest.dropFirst(count) }
        return rest.prefix(count)
    }

    /// An unsigned little-endian integer of `size` (1...8) bytes.
    mutating func word(_ size: Int) -> UInt64? {
        bytes(size).map { slice in slice.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
    }

    mutating func uint32() -> UInt32? { word(4).map { UInt32(truncatingIfNeeded: $0) } }
}
