import AIMassAPI

/// The tensors of an AI Mass model under the Open Inference Protocol: what ``InferenceQuery`` accepts and
/// `ModelMetadata` describes (a variable dimension is -1).
public enum InferenceTensorSpec {
    /// An input tensor.
    public enum Input: String, Sendable, Hashable, CaseIterable {
        case userId = "user_id"
        case seedItems = "seed_items"
        case k
        case excludeSeen = "exclude_seen"

        /// Its datatype.
        public var datatype: String {
            switch self {
            case .userId, .seedItems: "BYTES"
            case .k: "INT32"
            case .excludeSeen: "BOOL"
            }
        }

        /// Its shape: one id per user, any number of seed items, one `k`, one flag.
        public var shape: [Int64] {
            switch self {
            case .userId, .seedItems: [-1]
            case .k, .excludeSeen: [1]
            }
        }
    }

    /// An output tensor: `[B, k]` for a batch of users, `[k]` for seed items. A query with fewer than `k`
    /// recommendations has its row padded with empty item ids scored 0.
    public enum Output: String, Sendable, Hashable, CaseIterable {
        case itemIds = "item_ids"
        case scores

        /// Its datatype.
        public var datatype: String { self == .itemIds ? "BYTES" : "FP32" }
    }

    /// The inputs as an error message lists them.
    static let inputList = "user_id (BYTES [B]) or seed_items (BYTES [n]), k (INT32 [1]), exclude_seen (BOOL [1])"

    /// The `ModelMetadata` tensors.
    static var inputMetadata: [ModelMetadataResponse.TensorMetadata] {
        Input.allCases.map { .init(name: $0.rawValue, datatype: $0.datatype, shape: $0.shape) }
    }

    /// The `ModelMetadata` outputs: `[-1, -1]` (a batch of users; seed items give `[-1]`).
    static var outputMetadata: [ModelMetadataResponse.TensorMetadata] {
        Output.allCases.map { .init(name: $0.rawValue, datatype: $0.datatype, shape: [-1, -1]) }
    }
}
