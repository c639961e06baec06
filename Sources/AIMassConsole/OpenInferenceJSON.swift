import AIMassAPI
import Foundation
import RPCCore

/// The JSON tensor encoding of the Open Inference Protocol v2's REST form (KServe's "V2 inference protocol"), to
/// and from the messages of its gRPC form: a pure translation, so the REST routes and `inference.GRPCInferenceService`
/// check and answer exactly alike.
///
/// A request `{"id", "inputs": [{"name", "shape", "datatype", "data"}], "outputs": [{"name"}]}` becomes a
/// ``ModelInferRequest`` with each tensor's `contents` of its datatype; `data` may be flat or nested as the shape,
/// in row-major order; BYTES elements are JSON strings. With the binary tensor data extension
/// (``OpenInferenceBinary``) an input has the parameter `binary_data_size` instead of `data`, and outputs may be asked
/// for as binary data. Checking the tensors against the model is the gRPC service's job; this only refuses what
/// cannot be a tensor at all (`INVALID_ARGUMENT` naming it).
enum OpenInferenceJSON {
    /// Which outputs an infer body asks for as binary data: those with the parameter `binary_data: true`, and every
    /// other one when the request's parameter `binary_data_output` is true.
    struct BinaryOutputs: Equatable {
        var all = false
        var byName: [String: Bool] = [:]

        func wants(_ name: String) -> Bool { byName[name] ?? all }
    }

    /// The gRPC request for an infer body addressed to `model` (and `version`, empty for the default), and the outputs
    /// it wants as binary data; `binary` is the body's part after the JSON header (empty without the extension).
    static func request(
        _ body: JSONBody, binary: ArraySlice<UInt8> = [], model: String, version: String
    ) throws(RPCError) -> (ModelInferRequest, BinaryOutputs) {
        guard case .array(let inputs)? = body.fields["inputs"] else {
            throw RPCError(code: .invalidArgument, message: "field 'inputs' must be a list of tensors")
        }
        var wanted = BinaryOutputs()
        if let flag = try parameter("binary_data_output", of: body.fields, where: "the request") {
            guard case .bool(let all) = flag else {
                throw RPCError(code: .invalidArgument, message: "the request's parameter 'binary_data_output' must be true or false")
            }
            wanted.all = all
        }
        var outputs: [ModelInferRequest.InferRequestedOutputTensor] = []
        switch body.fields["outputs"] {
        case nil, .null?:
            break
        case .array(let list)?:
            for element in list {
                guard case .object(let output) = element, case .string(let name)? = output["name"] else {
                    throw RPCError(code: .invalidArgument, message: "each of 'outputs' must be an object with a 'name'")
                }
                switch try parameter("binary_data", of: output, where: "output '\(name)'") {
                case nil: break
                case .bool(let flag)?: wanted.byName[name] = flag
                default:
                    throw RPCError(code: .invalidArgument, message: "output '\(name)': parameter 'binary_data' must be true or false")
                }
                outputs.append(.init(name: name))
            }
        default:
            throw RPCError(code: .invalidArgument, message: "field 'outputs' must be a list of {\"name\": ...}")
        }
        var reader = LittleEndianReader(binary)
        var tensors: [ModelInferRequest.InferInputTensor] = []
        for (index, element) in inputs.enumerated() { tensors.append(try input(element, index: index, binary: &reader)) }
        guard reader.atEnd else {
            throw RPCError(
                code: .invalidArgument,
                message: "the body holds \(reader.remaining) bytes of binary tensor data that no input claims (parameter 'binary_data_size')")
        }
        let message = ModelInferRequest(
            modelName: model, modelVersion: version, id: try body.string("id"), inputs: tensors, outputs: outputs)
        return (message, wanted)
    }

    /// The parameter `key` of a request, input or output object (`nil` when absent).
    static func parameter(_ key: String, of object: [String: JSONValue], where place: String) throws(RPCError) -> JSONValue? {
        switch object["parameters"] {
        case nil, .null?: return nil
        case .object(let parameters)?: return parameters[key]
        default: throw RPCError(code: .invalidArgument, message: "\(place): 'parameters' must be an object")
        }
    }

    /// One input tensor: its name, datatype and shape as given, its `data` flattened into the contents of its type,
    /// or its binary data (parameter `binary_data_size`) read off `binary`.
    static func input(
        _ value: JSONValue, index: Int, binary: inout LittleEndianReader
    ) throws(RPCError) -> ModelInferRequest.InferInputTensor {
        guard case .object(let fields) = value else { throw invalid("#\(index)", "must be an object") }
        guard case .string(let name)? = fields["name"], !name.isEmpty else {
            throw invalid("#\(index)", "needs a 'name' (a string)")
        }
        guard case .string(let datatype)? = fields["datatype"] else { throw invalid(name, "needs a 'datatype' (a string)") }
        guard case .array(let dimensions)? = fields["shape"] else { throw invalid(name, "needs a 'shape' (a list of integers)") }
        var shape: [Int64] = []
        for dimension in dimensions {
            guard case .number(let number) = dimension, let exact = Int64(exactly: number), exact >= 0 else {
                throw invalid(name, "'shape' must be a list of integers >= 0")
            }
            shape.append(exact)
        }
        let (expected, overflow) = shape.reduce((Int64(1), false)) { total, dimension in
            let product = total.0.multipliedReportingOverflow(by: dimension)
            return (product.partialValue, total.1 || product.overflow)
        }
        guard !overflow, expected <= Int64(Int32.max) else { throw invalid(name, "its shape \(shape) holds too many elements") }
        if let size = try parameter("binary_data_size", of: fields, where: "input tensor '\(name)'") {
            guard fields["data"] == nil else {
                throw invalid(name, "has both 'data' and the parameter 'binary_data_size': send one")
            }
            guard case .number(let number) = size, let length = Int(exactly: number), length >= 0 else {
                throw invalid(name, "the parameter 'binary_data_size' must be an integer >= 0")
            }
            let available = binary.remaining
            guard let raw = binary.bytes(length) else {
                throw invalid(name, "binary_data_size is \(length) bytes, but only \(available) bytes of binary data remain in the body")
            }
            let contents = try OpenInferenceBinary.contents(raw, datatype: datatype, count: Int(expected), name: name)
            return .init(name: name, datatype: datatype, shape: shape, contents: contents)
        }
        guard let data = fields["data"] else {
            throw invalid(name, "needs 'data' (a flat or nested list) or the parameter 'binary_data_size'")
        }
        var elements: [JSONValue] = []
        flatten(data, into: &elements)
        guard Int64(elements.count) == expected else {
            throw invalid(name, "its shape \(shape) holds \(expected) element\(expected == 1 ? "" : "s"), its data \(elements.count)")
        }
        return .init(name: name, datatype: datatype, shape: shape, contents: try contents(elements, datatype: datatype, name: name))
    }

    /// The elements of `value` in row-major order (a scalar is one element).
    static func flatten(_ value: JSONValue, into elements: inout [JSONValue]) {
        if case .array(let list) = value {
            for element in list { flatten(element, into: &elements) }
        } else {
            elements.append(value)
        }
    }

    /// `elements` as the contents field of `datatype` (FP16/BF16 have none in JSON: the spec sends them raw only).
    static func contents(_ elements: [JSONValue], datatype: String, name: String) throws(RPCError) -> InferTensorContents {
        func numbers<T>(_ convert: (Double) -> T?, _ what: String) throws(RPCError) -> [T] {
            var values: [T] = []
            values.reserveCapacity(elements.count)
            for element in elements {
                guard case .number(let number) = element, let value = convert(number) else {
                    throw invalid(name, "datatype \(datatype) needs \(what) in 'data'")
                }
                values.append(value)
            }
            return values
        }
        var contents = InferTensorContents()
        switch datatype {
        case "BOOL":
            for element in elements {
                guard case .bool(let flag) = element else { throw invalid(name, "datatype BOOL needs true or false in 'data'") }
                contents.boolContents.append(flag)
            }
        case "BYTES":
            for element in elements {
                guard case .string(let text) = element else { throw invalid(name, "datatype BYTES needs strings in 'data'") }
                contents.bytesContents.append(Array(text.utf8))
            }
        case "INT8": contents.intContents = try numbers({ Int8(exactly: $0).map(Int32.init) }, "integers of INT8")
        case "INT16": contents.intContents = try numbers({ Int16(exactly: $0).map(Int32.init) }, "integers of INT16")
        case "INT32": contents.intContents = try numbers({ Int32(exactly: $0) }, "integers of INT32")
        case "INT64": contents.int64Contents = try numbers({ Int64(exactly: $0) }, "integers of INT64")
        case "UINT8": contents.uintContents = try numbers({ UInt8(exactly: $0).map(UInt32.init) }, "integers of UINT8")
        case "UINT16": contents.uintContents = try numbers({ UInt16(exactly: $0).map(UInt32.init) }, "integers of UINT16")
        case "UINT32": contents.uintContents = try numbers({ UInt32(exactly: $0) }, "integers of UINT32")
        case "UINT64": contents.uint64Contents = try numbers({ UInt64(exactly: $0) }, "integers of UINT64")
        case "FP32": contents.fp32Contents = try numbers({ Float($0) }, "numbers")
        case "FP64": contents.fp64Contents = try numbers({ $0 }, "numbers")
        default:
            throw invalid(name, "datatype '\(datatype)' has no JSON form: use BOOL, BYTES, INT8..INT64, UINT8..UINT64, FP32 or FP64")
        }
        return contents
    }

    /// The response of an infer call: its JSON header, each output with its flat `data` (BYTES as strings) or, when
    /// `binary` wants it, the parameter `binary_data_size` and its bytes appended to `binaryData` in output order.
    static func response(
        _ response: ModelInferResponse, binary: BinaryOutputs = .init()
    ) -> (json: [String: Any], binaryData: [UInt8], anyBinary: Bool) {
        var binaryData: [UInt8] = []
        var anyBinary = false
        let outputs = response.outputs.enumerated().map { index, tensor -> [String: Any] in
            let raw = index < response.rawOutputContents.count ? response.rawOutputContents[index] : nil
            let values = contents(of: tensor, raw: raw)
            var output: [String: Any] = ["name": tensor.name, "datatype": tensor.datatype, "shape": tensor.shape]
            if binary.wants(tensor.name) {
                let bytes = OpenInferenceBinary.bytes(values, datatype: tensor.datatype)
                output["parameters"] = ["binary_data_size": bytes.count]
                binaryData += bytes
                anyBinary = true
            } else {
                output["data"] = data(values, datatype: tensor.datatype)
            }
            return output
        }
        var body: [String: Any] = ["model_name": response.modelName, "model_version": response.modelVersion, "outputs": outputs]
        if !response.id.isEmpty { body["id"] = response.id }
        return (body, binaryData, anyBinary)
    }

    /// An output tensor's contents, or its raw entry decoded (the gRPC service answers raw only to a raw request,
    /// which this gateway never sends; decoded anyway, so no answer is ever lost).
    static func contents(of tensor: ModelInferResponse.InferOutputTensor, raw: [UInt8]?) -> InferTensorContents {
        guard let raw else { return tensor.contents ?? InferTensorContents() }
        let count = tensor.shape.reduce(1) { $0 * Int(clamping: $1) }
        return (try? OpenInferenceBinary.contents(raw[...], datatype: tensor.datatype, count: count, name: tensor.name))
            ?? InferTensorContents()
    }

    /// The elements of `contents` as JSON values.
    static func data(_ contents: InferTensorContents, datatype: String) -> [Any] {
        switch datatype {
        case "BYTES": return contents.bytesContents.map { String(decoding: $0, as: UTF8.self) }
        case "FP32": return contents.fp32Contents.map { JSONForms.number(Double($0)) }
        case "FP64": return contents.fp64Contents.map(JSONForms.number)
        case "BOOL": return contents.boolContents
        case "INT64": return contents.int64Contents
        case "UINT64": return contents.uint64Contents
        case "UINT8", "UINT16", "UINT32": return contents.uintContents
        default: return contents.intContents
        }
    }

    static func metadata(_ m: ModelMetadataResponse) -> [String: Any] {
        func tensors(_ list: [ModelMetadataResponse.TensorMetadata]) -> [[String: Any]] {
            list.map { ["name": $0.name, "datatype": $0.datatype, "shape": $0.shape] }
        }
        return ["name": m.name, "versions": m.versions, "platform": m.platform, "inputs": tensors(m.inputs), "outputs": tensors(m.outputs)]
    }

    static func invalid(_ name: String, _ message: String) -> RPCError {
        RPCError(code: .invalidArgument, message: "input tensor '\(name)': \(message)")
    }
}
