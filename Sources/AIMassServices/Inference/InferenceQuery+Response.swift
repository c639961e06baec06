import AIMassAPI
import RecommendCore

extension InferenceQuery {
    /// The `ModelInfer` answer for the results of each query (one per user, or one for seed items), in the
    /// encoding the request used: `raw_output_contents` after raw inputs, `contents` otherwise.
    ///
    /// Every row is `k` wide: a query with fewer results is padded with empty item ids scored 0.
    func response(_ results: [[Recommendation]], model: String, version: String, id: String) -> ModelInferResponse {
        let shape: [Int64] =
            switch subject {
            case .users: [Int64(results.count), Int64(k)]
            case .seedItems: [Int64(k)]
            }
        var items: [[UInt8]] = []
        var scores: [Float] = []
        items.reserveCapacity(results.count * k)
        scores.reserveCapacity(results.count * k)
        for row in results {
            for recommendation in row.prefix(k) {
                items.append(Array(recommendation.item.utf8))
                scores.append(Float(recommendation.score))
            }
            for _ in row.count..<max(k, row.count) {
                items.append([])
                scores.append(0)
            }
        }
        var response = ModelInferResponse(modelName: model, modelVersion: version, id: id)
        for output in outputs {
            var tensor = ModelInferResponse.InferOutputTensor(
                name: output.rawValue,
                datatype: output.datatype,
                shape: shape
            )
            switch (output, raw) {
            case (.itemIds, true):
                response.rawOutputContents.append(Self.rawBytes(items))
            case (.scores, true):
                response.rawOutputContents.append(Self.rawFloats(scores))
            case (.itemIds, false):
                tensor.contents = InferTensorContents(bytesContents: items)
            case (.scores, false):
                tensor.contents = InferTensorContents(fp32Contents: scores)
            }
            response.outputs.append(tensor)
        }
        return response
    }

    /// BYTES elements in the raw layout: each a 4-byte little-endian length, then the bytes.
    static func rawBytes(_ elements: [[UInt8]]) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(elements.reduce(0) { $0 + 4 + $1.count })
        for element in elements {
            let length = UInt32(element.count)
            raw += [UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8)]
            raw += [UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 24)]
            raw += element
        }
        return raw
    }

    /// FP32 elements in the raw layout: little-endian IEEE 754.
    static func rawFloats(_ values: [Float]) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern
            raw += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8)]
            raw += [UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
        }
        return raw
    }
}
