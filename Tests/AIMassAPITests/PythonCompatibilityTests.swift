import RPCCore
import Testing

@testable import AIMassAPI

/// Bytes computed once with Python protobuf (`grpc_tools.protoc` on proto/, then
/// `msg.SerializeToString(deterministic=True).hex()`; deterministic sorts map keys, as our encoder
/// does). Our encoder must produce exactly these bytes and our decoder must read them back.
@Suite struct PythonCompatibilityTests {
    static let cases: [(name: String, hex: String, check: @Sendable (String) throws -> Void)] = [
        (
            "VersionSelector", "0803120a70726f64756374696f6e",
            { hex in try expectBytes(VersionSelector(number: 3, alias: "production"), hex) }
        ),
        (
            "Model",
            "0a0d6d6f766965732d6974656d6366120a4974656d20434620c3a918fbd095ffbc3128073a066d6f766965733a066974656d6366"
                + "42110a07757365725f69641206737472696e67521c0a11686f6c646f75742e726563616c6c40313011000000000000e03f"
                + "52160a0b6c6f6f2e6e64636740313011000000000000d03f6080207a100a0a6e65696768626f7572731202353082010a0a06"
                + "63616e617279100782010e0a0a70726f64756374696f6e1006",
            { hex in
                let model = Model(
                    name: "movies-itemcf",
                    description: "Item CF é",
                    createdAtMs: 1_700_000_000_123,
                    latestVersion: 7,
                    tags: ["movies", "itemcf"],
                    inputSchema: [SchemaField(name: "user_id", type: "string")],
                    metrics: ["loo.ndcg@10": 0.25, "holdout.recall@10": 0.5],
                    sizeBytes: 4096,
                    manifest: ["neighbours": "50"],
                    aliases: ["production": 6, "canary": 7]
                )
                try expectBytes(model, hex)
            }
        ),
        ("UploadVersionRequest.chunk", "1204000102ff", { hex in try expectBytes(UploadVersionRequest(part: .chunk([0, 1, 2, 0xFF])), hex) }),
        ("UploadVersionRequest.chunk empty", "1200", { hex in try expectBytes(UploadVersionRequest(part: .chunk([])), hex) }),
        (
            "MeshEvent.heartbeat", "082a1080d095ffbc31180db20100",
            { hex in
                try expectBytes(
                    MeshEvent(revision: 42, occurredAtMs: 1_700_000_000_000, kind: .heartbeat, payload: .heartbeat(Heartbeat())),
                    hex
                )
            }
        ),
        (
            "WatchRequest (packed repeated enum)", "08091201611201621a02020c208827",
            { hex in
                try expectBytes(
                    WatchRequest(resumeFromRevision: 9, models: ["a", "b"], kinds: [.workerJoined, .aliasMoved], heartbeatIntervalMs: 5000),
                    hex
                )
            }
        ),
        (
            "DeployRequest (negative int32)", "0a016d120c120a70726f64756374696f6e180120032a0908f40310808080800230fbffffffffffffffff013808",
            { hex in
                let request = DeployRequest(
                    model: "m",
                    version: VersionSelector(alias: "production"),
                    minReplicas: 1,
                    maxReplicas: 3,
                    resources: Resources(cpuMillis: 500, memoryBytes: 1 << 29),
                    priority: -5,
                    targetConcurrency: 8
                )
                try expectBytes(request, hex)
            }
        ),
        (
            "EvaluateRequest (uint64 above Int64.max)", "0a016d1802200a28858080808080808080013001",
            { hex in
                try expectBytes(
                    EvaluateRequest(model: "m", protocol: .holdout8020, k: 10, seed: (1 << 63) + 5, dryRun: true),
                    hex
                )
            }
        ),
    ]

    @Test(arguments: cases.indices)
    func matchesPython(_ index: Int) throws {
        try Self.cases[index].check(Self.cases[index].hex)
    }
}

/// Expects `value` to encode to `hex`, and `hex` to decode to `value`.
private func expectBytes<M: WireMessage & Equatable>(_ value: M, _ hex: String) throws {
    let expected = bytes(hex)
    #expect(value.wireBytes() == expected, "\(M.self) encodes differently from Python: \(hexString(value.wireBytes()))")
    #expect(try M(wireBytes: expected) == value, "\(M.self) decodes Python's bytes differently")
}

private func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
