import Testing

@testable import AIMassAPI

/// Every message of common.proto survives value → wireBytes → init(wireBytes:) unchanged.
@Suite struct CommonRoundTripTests {
    @Test func versionSelector() throws {
        try expectRoundTrip(Samples.versionSelector)
    }

    @Test func schemaField() throws {
        try expectRoundTrip(Samples.schemaField)
    }

    @Test func resources() throws {
        try expectRoundTrip(Samples.resources)
    }
}
