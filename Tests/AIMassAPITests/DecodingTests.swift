import RPCCore
import Testing

@testable import AIMassAPI

/// Decoding edge cases: bad bytes, enum values this build does not know, absent sub-messages.
@Suite struct DecodingTests {
    @Test func invalidBytesAreInternalError() {
        // Field 1 (string) claims 5 bytes but only 1 follows.
        #expect(throws: RPCError.self) { try Model(wireBytes: [0x0A, 0x05, 0x61]) }
        do {
            _ = try Model(wireBytes: [0x0A, 0x05, 0x61])
        } catch {
            #expect(error.code == .internalError)
        }
    }

    @Test func invalidBytesNameTheMessage() {
        #expect(throws: RPCError(code: .internalError, message: "cannot parse aimass.v1.Model: invalid protobuf encoding")) {
            try Model(wireBytes: [0x0A, 0x05, 0x61])
        }
    }

    @Test func mapKeySeenTwiceKeepsItsLastValue() throws {
        // Model { annotations: {"a": "1"}, annotations: {"a": "2"} }: two entries of field 14 with the same key.
        let entry: (UInt8) -> [UInt8] = { value in [0x72, 0x06, 0x0A, 0x01, 0x61, 0x12, 0x01, value] }
        let model = try Model(wireBytes: entry(0x31) + entry(0x32))
        #expect(model.annotations == ["a": "2"])
    }

    @Test func mapsEncodeSortedByKey() {
        let model = Model(aliases: ["production": 2, "canary": 3])
        #expect(model.wireBytes() == Model(aliases: ["canary": 3, "production": 2]).wireBytes())
        // Field 16, entry { key: "canary", value: 3 } first.
        #expect(Array(model.wireBytes().prefix(11)) == [0x82, 0x01, 0x0A, 0x0A, 0x06] + Array("canary".utf8))
    }

    @Test func unknownEnumValueReadsAsUnspecified() throws {
        // Permission { principal: "u", role: 99 }
        let permission = try Permission(wireBytes: [0x0A, 0x01, 0x75, 0x10, 0x63])
        #expect(permission == Permission(principal: "u", role: .unspecified))
    }

    @Test func unknownFieldsAreSkipped() throws {
        // GetModelRequest { name: "m" } followed by an unknown field 99 (varint 1).
        let request = try GetModelRequest(wireBytes: [0x0A, 0x01, 0x6D, 0x98, 0x06, 0x01])
        #expect(request == GetModelRequest(name: "m"))
    }

    @Test func emptySubMessageIsPresentAbsentIsNil() throws {
        let present = GetVersionRequest(model: "m", version: VersionSelector())
        #expect(try GetVersionRequest(wireBytes: present.wireBytes()).version == VersionSelector())
        #expect(try GetVersionRequest(wireBytes: GetVersionRequest(model: "m").wireBytes()).version == nil)
    }

    @Test func defaultValuesEncodeToNothing() {
        #expect(Model().wireBytes().isEmpty)
        #expect(Deployment().wireBytes().isEmpty)
        #expect(MeshEvent().wireBytes().isEmpty)
    }
}
