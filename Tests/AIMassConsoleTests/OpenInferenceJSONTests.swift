import AIMassAPI
import Foundation
import RPCCore
import Testing

@testable import AIMassConsole

@Suite("The Open Inference Protocol's JSON tensors to and from its gRPC messages")
struct OpenInferenceJSONTests {
    private func body(_ json: String) throws -> JSONBody { try JSONBody(Data(json.utf8)) }

    private func message(_ json: String) throws -> String {
        do {
            _ = try OpenInferenceJSON.request(try body(json), model: "m", version: "")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            return error.message
        }
        Issue.record("no error for \(json)")
        return ""
    }

    @Test("nested data is flattened row-major into the contents of the datatype")
    func request() throws {
        let request = try OpenInferenceJSON.request(
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

    @Test("outputs come back with flat data, from contents or raw entries alike")
    func response() throws {
        let ids = ModelInferResponse.InferOutputTensor(
            name: "item_ids", datatype: "BYTES", shape: [1, 2],
            contents: InferTensorContents(bytesContents: [Array("50".utf8), Array("181".utf8)]))
        let scores = ModelInferResponse.InferOutputTensor(
            name: "scores", datatype: "FP32", shape: [1, 2], contents: InferTensorContents(fp32Contents: [0.5, 0.25]))
        let json = OpenInferenceJSON.response(ModelInferResponse(modelName: "m", modelVersion: "1", id: "r", outputs: [ids, scores]))
        let outputs = try #require(json["outputs"] as? [[String: Any]])
        #expect(outputs[0]["data"] as? [String] == ["50", "181"])
        #expect(outputs[1]["data"] as? [Double] == [0.5, 0.25])
        #expect(json["id"] as? String == "r" && json["model_version"] as? String == "1")

        let raw = ModelInferResponse(
            outputs: [.init(name: "item_ids", datatype: "BYTES", shape: [1]), .init(name: "scores", datatype: "FP32", shape: [1])],
            rawOutputContents: [[2, 0, 0, 0] + Array("50".utf8), Array(withUnsafeBytes(of: Float(0.5).bitPattern.littleEndian, Array.init))])
        let rawOutputs = try #require(OpenInferenceJSON.response(raw)["outputs"] as? [[String: Any]])
        #expect(rawOutputs[0]["data"] as? [String] == ["50"])
        #expect(rawOutputs[1]["data"] as? [Double] == [0.5])
    }
}
