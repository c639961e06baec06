import AIMassAPI
import RPCCore
import RecommendCore
import Testing

@testable import AIMassServices

/// Decoding and checking ModelInfer tensors, in both encodings, and encoding the answer.
@Suite("InferenceQuery")
struct InferenceQueryTests {
    typealias Tensor = ModelInferRequest.InferInputTensor

    static func bytes(_ name: String, _ values: [String]) -> Tensor {
        Tensor(
            name: name,
            datatype: "BYTES",
            shape: [Int64(values.count)],
            contents: InferTensorContents(bytesContents: values.map { Array($0.utf8) })
        )
    }

    static func k(_ value: Int32) -> Tensor {
        Tensor(name: "k", datatype: "INT32", shape: [1], contents: InferTensorContents(intContents: [value]))
    }

    /// The request's message on INVALID_ARGUMENT (the test fails on any other outcome).
    static func invalid(_ request: ModelInferRequest) -> String {
        do {
            _ = try InferenceQuery(request)
            Issue.record("accepted: \(request)")
            return ""
        } catch {
            #expect(error.code == .invalidArgument)
            return error.message
        }
    }

    @Test("contents: users, k and exclude_seen")
    func contents() throws {
        let request = ModelInferRequest(inputs: [
            Self.bytes("user_id", ["196", "42"]), Self.k(5),
            Tensor(
                name: "exclude_seen",
                datatype: "BOOL",
                shape: [1],
                contents: InferTensorContents(boolContents: [true])
            ),
        ])
        let query = try InferenceQuery(request)
        #expect(query.subject == .users(["196", "42"]))
        #expect(query.k == 5)
        #expect(query.excludeSeen)
        #expect(!query.raw)
        #expect(query.outputs == [.itemIds, .scores])
    }

    @Test("defaults: k 10, exclude_seen false")
    func defaults() throws {
        let query = try InferenceQuery(ModelInferRequest(inputs: [Self.bytes("seed_items", ["50", "181", "1"])]))
        #expect(query.subject == .seedItems(["50", "181", "1"]))
        #expect(query.k == 10)
        #expect(!query.excludeSeen)
    }

    @Test("raw_input_contents: length-prefixed BYTES, little-endian INT32, one byte a BOOL")
    func raw() throws {
        let request = ModelInferRequest(
            inputs: [
                Tensor(name: "user_id", datatype: "BYTES", shape: [2]),
                Tensor(name: "k", datatype: "INT32", shape: [1]),
                Tensor(name: "exclude_seen", datatype: "BOOL", shape: [1]),
            ],
            rawInputContents: [
                [3, 0, 0, 0] + Array("196".utf8) + [2, 0, 0, 0] + Array("42".utf8), [0x2C, 0x01, 0, 0], [1],
            ]
        )
        let query = try InferenceQuery(request)
        #expect(query.subject == .users(["196", "42"]))
        #expect(query.k == 300)
        #expect(query.excludeSeen)
        #expect(query.raw)
    }

    @Test("requested outputs, in the order asked")
    func requestedOutputs() throws {
        let request = ModelInferRequest(
            inputs: [Self.bytes("user_id", ["1"])],
            outputs: [.init(name: "scores"), .init(name: "item_ids")]
        )
        #expect(try InferenceQuery(request).outputs == [.scores, .itemIds])
        let unknown = ModelInferRequest(inputs: [Self.bytes("user_id", ["1"])], outputs: [.init(name: "logits")])
        #expect(Self.invalid(unknown).contains("unknown output tensor 'logits'"))
    }

    @Test("each bad tensor is named, with what was expected")
    func badTensors() {
        let cases: [(ModelInferRequest, [String])] = [
            (ModelInferRequest(inputs: [Self.bytes("user", ["1"])]), ["'user'", "user_id (BYTES [B])"]),
            (ModelInferRequest(inputs: []), ["missing input tensor", "user_id"]),
            (ModelInferRequest(inputs: [Self.bytes("user_id", ["1"]), Self.bytes("seed_items", ["2"])]), ["both"]),
            (ModelInferRequest(inputs: [Self.bytes("user_id", ["1"]), Self.bytes("user_id", ["2"])]), ["twice"]),
            (
                ModelInferRequest(inputs: [
                    Tensor(
                        name: "user_id",
                        datatype: "INT64",
                        shape: [1],
                        contents: InferTensorContents(int64Contents: [196])
                    )
                ]),
                ["'user_id'", "expected datatype BYTES, got INT64"]
            ),
            (
                ModelInferRequest(inputs: [
                    Tensor(
                        name: "user_id",
                        datatype: "BYTES",
                        shape: [1, 1],
                        contents: InferTensorContents(bytesContents: [[0x31]])
                    )
                ]),
                ["'user_id'", "expected shape [B]", "got [1, 1]"]
            ),
            (
                ModelInferRequest(inputs: [
                    Tensor(
                        name: "user_id",
                        datatype: "BYTES",
                        shape: [3],
                        contents: InferTensorContents(bytesContents: [[0x31]])
                    )
                ]),
                ["'user_id'", "shape holds 3 elements, its contents 1"]
            ),
            (
                ModelInferRequest(inputs: [Self.bytes("user_id", ["1"]), Self.k(0)]),
                ["'k'", "between 1 and 10000, got 0"]
            ),
            (
                ModelInferRequest(inputs: [
                    Self.bytes("user_id", ["1"]),
                    Tensor(
                        name: "k",
                        datatype: "INT32",
                        shape: [2],
                        contents: InferTensorContents(intContents: [1, 2])
                    ),
                ]),
                ["'k'", "expected shape [1], got [2]"]
            ),
            (
                ModelInferRequest(inputs: [
                    Tensor(
                        name: "user_id",
                        datatype: "BYTES",
                        shape: [1],
                        contents: InferTensorContents(bytesContents: [[0xFF]])
                    )
                ]),
                ["'user_id'", "invalid UTF-8"]
            ),
            (
                ModelInferRequest(
                    inputs: [Tensor(name: "user_id", datatype: "BYTES", shape: [1])],
                    rawInputContents: [[9, 0, 0, 0, 0x31]]
                ),
                ["'user_id'", "says 9 bytes, 1 remain"]
            ),
            (
                ModelInferRequest(inputs: [Self.bytes("user_id", ["1"])], rawInputContents: [[1, 0, 0, 0, 0x31]]),
                ["'user_id'", "has contents although raw_input_contents is used"]
            ),
            (
                ModelInferRequest(
                    inputs: [Tensor(name: "user_id", datatype: "BYTES", shape: [1]), Self.k(1)],
                    rawInputContents: [[1, 0, 0, 0, 0x31]]
                ),
                ["raw_input_contents holds 1 entries for 2 input tensors"]
            ),
            (
                ModelInferRequest(
                    inputs: [
                        Tensor(name: "user_id", datatype: "BYTES", shape: [1]),
                        Tensor(name: "k", datatype: "INT32", shape: [1]),
                    ],
                    rawInputContents: [[1, 0, 0, 0, 0x31], [5, 0]]
                ),
                ["'k'", "raw INT32 contents of 2 bytes"]
            ),
        ]
        for (request, fragments) in cases {
            let message = Self.invalid(request)
            for fragment in fragments {
                #expect(message.contains(fragment), "\(message) lacks \(fragment)")
            }
        }
    }

    @Test("the answer: [B, k] padded rows in contents, or the same in raw_output_contents")
    func response() throws {
        let results = [
            [Recommendation(item: "50", score: 2.5), Recommendation(item: "181", score: 1.25)],
            [Recommendation(item: "7", score: 0.5)],
        ]
        let plain = try InferenceQuery(ModelInferRequest(inputs: [Self.bytes("user_id", ["1", "2"]), Self.k(2)]))
        let response = plain.response(results, model: "movies", version: "3", id: "req")
        #expect(response.modelName == "movies" && response.modelVersion == "3" && response.id == "req")
        #expect(response.outputs.map(\.name) == ["item_ids", "scores"])
        #expect(response.outputs.map(\.shape) == [[2, 2], [2, 2]])
        #expect(response.outputs[0].contents?.bytesContents == [[0x35, 0x30], [0x31, 0x38, 0x31], [0x37], []])
        #expect(response.outputs[1].contents?.fp32Contents == [2.5, 1.25, 0.5, 0])
        #expect(response.rawOutputContents.isEmpty)

        let raw = ModelInferRequest(
            inputs: [
                Tensor(name: "seed_items", datatype: "BYTES", shape: [1]),
                Tensor(name: "k", datatype: "INT32", shape: [1]),
            ],
            rawInputContents: [[1, 0, 0, 0, 0x31], [2, 0, 0, 0]]
        )
        let rawResponse = try InferenceQuery(raw).response([results[0]], model: "movies", version: "3", id: "")
        #expect(rawResponse.outputs.map(\.shape) == [[2], [2]])
        #expect(rawResponse.outputs.allSatisfy { $0.contents == nil })
        #expect(rawResponse.rawOutputContents[0] == [2, 0, 0, 0, 0x35, 0x30, 3, 0, 0, 0, 0x31, 0x38, 0x31])
        #expect(rawResponse.rawOutputContents[1] == [0, 0, 0x20, 0x40, 0, 0, 0xA0, 0x3F])
    }

    @Test("the answer survives the wire")
    func roundTrip() throws {
        let query = try InferenceQuery(ModelInferRequest(inputs: [Self.bytes("user_id", ["1"])]))
        let response = query.response([[Recommendation(item: "50", score: 1)]], model: "m", version: "1", id: "")
        #expect(try ModelInferResponse(wireBytes: response.wireBytes()) == response)
    }
}
