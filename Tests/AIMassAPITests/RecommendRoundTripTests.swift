import Testing

@testable import AIMassAPI

/// Every message of recommend.proto survives value → wireBytes → init(wireBytes:) unchanged.
@Suite struct RecommendRoundTripTests {
    @Test func scoredItem() throws {
        try expectRoundTrip(Samples.scoredItem)
    }

    @Test func servedBy() throws {
        try expectRoundTrip(Samples.servedBy)
    }

    @Test func recommendRequest() throws {
        try expectRoundTrip(Samples.recommendRequest)
    }

    @Test func recommendResponse() throws {
        try expectRoundTrip(Samples.recommendResponse)
    }

    @Test func similarItemsRequest() throws {
        try expectRoundTrip(Samples.similarItemsRequest)
    }

    @Test func similarItemsResponse() throws {
        try expectRoundTrip(Samples.similarItemsResponse)
    }

    @Test func evaluateRequest() throws {
        try expectRoundTrip(Samples.evaluateRequest)
    }

    @Test func evaluateResponse() throws {
        try expectRoundTrip(Samples.evaluateResponse)
    }
}
