import AIMassAPI
import Foundation
import RPCCore
import Testing

@testable import AIMassConsole

@Suite("The Open Inference Protocol's JSON tensors to and from its gRPC messages")
struct OpenInferenceJSONTests {
    private func body(_ json: String) throws -> JSONBody { try JSONBody(Data(json.utf8)) }

    private func message(_ json: String, binary: [UInt8] = []) throws -> String {
        do {
            _ = try OpenInferenceJSON.request(try body(json), binary: binary[...], model: "m", version: "")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            return error.message
        }
        Issue.record("no error for \(json)")
        return ""
    }

    @Test("nested data is flattened row-major into the contents of the datatype")
    func request() throws {
        let (request, wanted) = try OpenInferenceJSON.request(
            try body(#"""
                {"id": "r1", "inputs": [
                  {"name": "user_id", "datatype": "BYTES", "shape": [2, 1], "data": [["196"], ["42"]]},
                  {"name": "k", "datatype": "INT32", "shape": [1], "data": 3},
                  {"name": "exclude_seen", "datatype": "BOOL", "shape": [1], "data": [true]}],
                 "outputs": [{"name": "scores"}]}
                """#),
            model: "movies", version: "2")
        #expect(request.modelName == "movies" && request.modelVersion == "2" && request.id == "r1")
        #expect(request.inputs.map(\.name) == ["user_id", "k", "exclude_seen"])
        #expect(request.inputs[0].shape == [2, 1])
        #expect(request.inputs[0].contents?.bytesContents == [Array("196".utf8), Array("42".utf8)])
        #expect(request.inputs[1].contents?.intContents == [3])
        #expect(request.inputs[2].contents?.boolContents == [true])
        #expect(request.outputs.map(\.name) == ["scores"])
        #expect(request.rawInputContents.isEmpty)
        #expect(wanted == .init())
    }

    @Test("what cannot be a tensor is INVALID_ARGUMENT naming it")
    func badTensors() throws {
        #expect(try message(#"{"inputs": {}}"#).contains("'inputs'"))
        #expect(try message(#"{"inputs": [{"name": "user_id", "datatype": "BYTES", "shape": [2], "data": ["1"]}]}"#)
            == "input tensor 'user_id': its shape [2] holds 2 elements, its data 1")
        #expect(try message(#"{"inputs": [{"name": "k", "datatype": "INT32", "shape": [1], "data": [1.5]}]}"#)
            .contains("'k'"))
        #expect(try message(#"{"inputs": [{"name": "k", "datatype": "INT8", "shape": [1], "data": [300]}]}"#)
            .contains("INT8"))
        #expect(try message(#"{"inputs": [{"name": "x", "datatype": "BYTES", "shape": [1], "data": [1]}]}"#)
            .contains("strings"))
        #expect(try message(#"{"inputs": [{"name": "x", "datatype": "FP16", "shape": [1], "data": [1]}]}"#)
            .contains("FP16"))
        #expect(try message(#"{"inputs": [{"name": "x", "datatype": "BYTES", "shape": [-1], "data": []}]}"#)
            .contains("'shape'"))
        #expect(try message(#"{"inputs": [{"datatype": "BYTES", "shape": [1], "data": ["a"]}]}"#).contains("#0"))
    }

    /// Two recommended items, 50 and 181, scored 0.5 and 0.25.
    private func outputs() -> (ModelInferResponse.InferOutputTensor, ModelInferResponse.InferOutputTensor) {
        let ids = ModelInferResponse.InferOutputTensor(
            name: "item_ids", datatype: "BYTES", shape: [1, 2],
            contents: InferTensorContents(bytesContents: [Array("50".utf8), Array("181".utf8)]))
        let scores = ModelInferResponse.InferOutputTensor(
            name: "scores", datatype: "FP32", shape: [1, 2], contents: InferTensorContents(fp32Contents: [0.5, 0.25]))
        return (ids, scores)
    }

    @Test("outputs come back with flat data, from contents or raw entries alike")
    func response() throws {
        let (ids, scores) = outputs()
        let (json, binary, anyBinary) = OpenInferenceJSON.response(
            ModelInferResponse(modelName: "m", modelVersion: "1", id: "r", outputs: [ids, scores]))
        #expect(binary.isEmpty && !anyBinary)
        let outputs = try #require(json["outputs"] as? [[String: Any]])
        #expect(outputs[0]["data"] as? [String] == ["50", "181"])
        #expect(outputs[1]["data"] as? [Double] == [0.5, 0.25])
        #expect(json["id"] as? String == "r" && json["model_version"] as? String == "1")

        let raw = ModelInferResponse(
            outputs: [.init(name: "item_ids", datatype: "BYTES", shape: [1]), .init(name: "scores", datatype: "FP32", shape: [1])],
            rawOutputContents: [[2, 0, 0, 0] + Array("50".utf8), Array(withUnsafeBytes(of: Float(0.5).bitPattern.littleEndian, Array.init))])
        let rawOutputs = try #require(OpenInferenceJSON.response(raw).json["outputs"] as? [[String: Any]])
        #expect(rawOutputs[0]["data"] as? [String] == ["50"])
        #expect(rawOutputs[1]["data"] as? [Double] == [0.5])
    }

    /// `values` as the extension's BYTES layout: each a 4-byte little-endian length, then the bytes.
    private func lengthPrefixed(_ values: [String]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: UInt32(value.utf8.count).littleEndian, Array.init) + Array(value.utf8) }
    }

    @Test("binary inputs (binary_data_size) are read off the body in order, into the contents of their datatype")
    func binaryRequest() throws {
        let users = lengthPrefixed(["196", "42"])
        let k = withUnsafeBytes(of: Int32(-3).littleEndian, Array.init)
        let json = #"""
            {"inputs": [
              {"name": "user_id", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": \#(users.count)}},
              {"name": "exclude_seen", "datatype": "BOOL", "shape": [1], "data": [false]},
              {"name": "k", "datatype": "INT32", "shape": [1], "parameters": {"binary_data_size": 4}}],
             "outputs": [{"name": "item_ids", "parameters": {"binary_data": false}}, {"name": "scores"}],
             "parameters": {"binary_data_output": true}}
            """#
        let (request, wanted) = try OpenInferenceJSON.request(
            try body(json), binary: (users + k)[...], model: "m", version: "")
        #expect(request.inputs[0].contents?.bytesContents == [Array("196".utf8), Array("42".utf8)])
        #expect(request.inputs[1].contents?.boolContents == [false])
        #expect(request.inputs[2].contents?.intContents == [-3])
        #expect(!wanted.wants("item_ids") && wanted.wants("scores") && wanted.wants("other"))
    }

    @Test("binary data of every fixed-size datatype goes to contents and back unchanged")
    func binaryRoundTrip() throws {
        let samples: [(String, InferTensorContents)] = [
            ("BOOL", .init(boolContents: [true, false, true])),
            ("INT8", .init(intContents: [-128, 0, 127])), ("INT16", .init(intContents: [-32768, 1, 32767])),
            ("INT32", .init(intContents: [Int32.min, -1, Int32.max])), ("INT64", .init(int64Contents: [Int64.min, 0, Int64.max])),
            ("UINT8", .init(uintContents: [0, 1, 255])), ("UINT16", .init(uintContents: [0, 2, 65535])),
            ("UINT32", .init(uintContents: [0, 3, UInt32.max])), ("UINT64", .init(uint64Contents: [0, 4, UInt64.max])),
            ("FP32", .init(fp32Contents: [-1.5, 0, 3.25])), ("FP64", .init(fp64Contents: [-2.5, 0, 1e300])),
            ("BYTES", .init(bytesContents: [[], Array("é".utf8), [0, 255]])),
        ]
        for (datatype, contents) in samples {
            let bytes = OpenInferenceBinary.bytes(contents, datatype: datatype)
            if let size = OpenInferenceBinary.elementSize(datatype) { #expect(bytes.count == 3 * size, "\(datatype)") }
            let back = try OpenInferenceBinary.contents(bytes[...], datatype: datatype, count: 3, name: "t")
            #expect(back == contents, "\(datatype)")
        }
        #expect(OpenInferenceBinary.bytes(.init(fp32Contents: [1]), datatype: "FP32") == [0, 0, 0x80, 0x3f])
    }

    @Test("binary data that does not fit its tensor is INVALID_ARGUMENT naming the tensor")
    func badBinary() throws {
        func input(_ datatype: String, _ shape: Int, _ size: Int) -> String {
            #"{"inputs": [{"name": "t", "datatype": "\#(datatype)", "shape": [\#(shape)], "parameters": {"binary_data_size": \#(size)}}]}"#
        }
        #expect(try message(input("INT32", 2, 4), binary: [1, 0, 0, 0]).contains("'t'"))
        #expect(try message(input("INT32", 2, 8), binary: [1, 0, 0, 0]).contains("only 4 bytes"))
        #expect(try message(input("INT32", 1, 4), binary: [1, 0, 0, 0, 9]).contains("1 bytes of binary tensor data that no input claims"))
        #expect(try message(input("BYTES", 1, 6), binary: [9, 0, 0, 0, 65, 66]).contains("ends inside an element"))
        #expect(try message(input("BYTES", 2, 5), binary: [1, 0, 0, 0, 65]).contains("holds 2 elements, its binary data 1"))
        #expect(try message(input("FP16", 1, 2), binary: [0, 0]).contains("FP16"))
        #expect(try message(#"{"inputs": [{"name": "t", "datatype": "BOOL", "shape": [1], "data": [true], "parameters": {"binary_data_size": 1}}]}"#,
                            binary: [1]).contains("both"))
        #expect(try message(#"{"inputs": [], "parameters": {"binary_data_output": 1}}"#).contains("binary_data_output"))
        #expect(throws: RPCError.self) { try OpenInferenceBinary.split([1, 2], headerLength: "3") }
        #expect(throws: RPCError.self) { try OpenInferenceBinary.split([1, 2], headerLength: "x") }
        let (json, rest) = try OpenInferenceBinary.split([1, 2, 3], headerLength: "2")
        #expect(Array(json) == [1, 2] && Array(rest) == [3])
    }

    @Test("outputs asked for as binary carry binary_data_size and their bytes follow the header in order")
    func binaryResponse() throws {
        let (ids, scores) = outputs()
        let response = ModelInferResponse(modelName: "m", modelVersion: "1", outputs: [ids, scores])
        let (json, binary, anyBinary) = OpenInferenceJSON.response(response, binary: .init(all: true, byName: ["scores": false]))
        let outputs = try #require(json["outputs"] as? [[String: Any]])
        #expect(anyBinary && binary == lengthPrefixed(["50", "181"]))
        #expect((outputs[0]["parameters"] as? [String: Int])?["binary_data_size"] == binary.count && outputs[0]["data"] == nil)
        #expect(outputs[1]["data"] as? [Double] == [0.5, 0.25] && outputs[1]["parameters"] == nil)
    }
}
