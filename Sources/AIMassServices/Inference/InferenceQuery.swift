import AIMassAPI
import RPCCore

/// What an Open Inference Protocol `ModelInfer` request asks of a recommendation model, once its tensors are
/// checked: a pure value, decoded from either tensor encoding (`contents` or `raw_input_contents`).
///
/// Inputs (see ``InferenceTensorSpec``): `user_id` BYTES `[B]` (a batch of users) or `seed_items` BYTES `[n]` (one
/// query from the items someone liked), optional `k` INT32 `[1]` (default 10, at most 10,000) and `exclude_seen`
/// BOOL `[1]` (default false, as in `aimass.v1.RecommendRequest`). Anything else, or a tensor of the wrong datatype,
/// shape or size, is `INVALID_ARGUMENT` naming the tensor and what was expected.
///
/// ```swift
/// let query = try InferenceQuery(request)
/// // query.subject == .users(["196", "42"]), query.k == 10
/// ```
public struct InferenceQuery: Sendable, Hashable {
    /// Whom the recommendations are for.
    public enum Subject: Sendable, Hashable {
        /// One query per user id: outputs `[B, k]`.
        case users([String])
        /// One query from these items: outputs `[k]`.
        case seedItems([String])
    }

    /// Whom the recommendations are for.
    public var subject: Subject
    /// Items per query.
    public var k: Int
    /// Whether items the user (or the seed list) already has are left out.
    public var excludeSeen: Bool
    /// The output tensors to send, in order: those the request names, or both.
    public var outputs: [InferenceTensorSpec.Output]
    /// Whether outputs go in `raw_output_contents`: when the request used `raw_input_contents`, as Triton answers.
    public var raw: Bool

    /// Checks and decodes the request's inputs and requested outputs.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` naming the tensor and what was expected.
    public init(_ request: ModelInferRequest) throws(RPCError) {
        raw = !request.rawInputContents.isEmpty
        if raw {
            guard request.rawInputContents.count == request.inputs.count else {
                throw Self.invalid(
                    "raw_input_contents holds \(request.rawInputContents.count) entries for \(request.inputs.count) "
                        + "input tensors: give one per input, in the order of inputs"
                )
            }
            if let tensor = request.inputs.first(where: { $0.contents != nil }) {
                throw Self.invalid("input tensor '\(tensor.name)': has contents although raw_input_contents is used")
            }
        }
        var values: [InferenceTensorSpec.Input: InferenceTensorValues] = [:]
        for (index, tensor) in request.inputs.enumerated() {
            guard let input = InferenceTensorSpec.Input(rawValue: tensor.name) else {
                throw Self.invalid("unknown input tensor '\(tensor.name)': expected \(InferenceTensorSpec.inputList)")
            }
            guard values[input] == nil else { throw Self.invalid("input tensor '\(tensor.name)' is given twice") }
            values[input] = try InferenceTensorValues(
                tensor,
                spec: input,
                raw: raw ? request.rawInputContents[index] : nil
            )
        }
        switch (values[.userId], values[.seedItems]) {
        case (.strings(let users)?, nil):
            subject = .users(users)
        case (nil, .strings(let items)?):
            subject = .seedItems(items)
        case (nil, nil):
            throw Self.invalid("missing input tensor: give user_id (BYTES [B]) or seed_items (BYTES [n])")
        default:
            throw Self.invalid("input tensors user_id and seed_items are both given: give one of them")
        }
        if case .int32s(let values)? = values[.k] {
            let value = values[0]
            guard (1...10_000).contains(value) else {
                throw Self.invalid("input tensor 'k': expected a value between 1 and 10000, got \(value)")
            }
            k = Int(value)
        } else {
            k = 10
        }
        if case .bools(let values)? = values[.excludeSeen] { excludeSeen = values[0] } else { excludeSeen = false }
        outputs = try Self.outputs(request.outputs)
    }

    /// The outputs a request names (both when it names none).
    private static func outputs(
        _ requested: [ModelInferRequest.InferRequestedOutputTensor]
    ) throws(RPCError) -> [InferenceTensorSpec.Output] {
        guard !requested.isEmpty else { return InferenceTensorSpec.Output.allCases }
        var outputs: [InferenceTensorSpec.Output] = []
        for tensor in requested {
            guard let output = InferenceTensorSpec.Output(rawValue: tensor.name) else {
                throw invalid("unknown output tensor '\(tensor.name)': expected item_ids or scores")
            }
            guard !outputs.contains(output) else { throw invalid("output tensor '\(tensor.name)' is requested twice") }
            outputs.append(output)
        }
        return outputs
    }

    static func invalid(_ message: String) -> RPCError {
        RPCError(code: .invalidArgument, message: message)
    }
}
