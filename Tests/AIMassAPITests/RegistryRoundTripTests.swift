import Testing

@testable import AIMassAPI

/// Every message of registry.proto survives value → wireBytes → init(wireBytes:) unchanged.
@Suite struct RegistryRoundTripTests {
    @Test func model() throws {
        try expectRoundTrip(Samples.model)
    }

    @Test func createModelRequest() throws {
        try expectRoundTrip(Samples.createModelRequest)
    }

    @Test func getModelRequest() throws {
        try expectRoundTrip(Samples.getModelRequest)
    }

    @Test func deleteModelRequest() throws {
        try expectRoundTrip(Samples.deleteModelRequest)
    }

    @Test func deleteModelResponse() throws {
        try expectRoundTrip(Samples.deleteModelResponse)
    }

    @Test func listModelsRequest() throws {
        try expectRoundTrip(Samples.listModelsRequest)
    }

    @Test func listModelsResponse() throws {
        try expectRoundTrip(Samples.listModelsResponse)
    }

    @Test func updateModelRequest() throws {
        try expectRoundTrip(Samples.updateModelRequest)
    }

    @Test func version() throws {
        try expectRoundTrip(Samples.version)
    }

    @Test func getVersionRequest() throws {
        try expectRoundTrip(Samples.getVersionRequest)
    }

    @Test func listVersionsRequest() throws {
        try expectRoundTrip(Samples.listVersionsRequest)
    }

    @Test func listVersionsResponse() throws {
        try expectRoundTrip(Samples.listVersionsResponse)
    }

    @Test func uploadVersionRequest() throws {
        try expectRoundTrip(Samples.uploadVersionRequest)
        try expectRoundTrip(UploadVersionRequest(part: .chunk([0x00, 0xFF, 30, 0])))
        try expectRoundTrip(UploadVersionRequest())
    }

    @Test func versionHeader() throws {
        try expectRoundTrip(Samples.versionHeader)
    }

    @Test func downloadVersionRequest() throws {
        try expectRoundTrip(Samples.downloadVersionRequest)
    }

    @Test func downloadVersionResponse() throws {
        try expectRoundTrip(Samples.downloadVersionResponse)
        try expectRoundTrip(DownloadVersionResponse(part: .chunk([0x00, 0xFF, 73, 0])))
        try expectRoundTrip(DownloadVersionResponse())
    }

    @Test func diffVersionsRequest() throws {
        try expectRoundTrip(Samples.diffVersionsRequest)
    }

    @Test func fieldChange() throws {
        try expectRoundTrip(Samples.fieldChange)
    }

    @Test func diffVersionsResponse() throws {
        try expectRoundTrip(Samples.diffVersionsResponse)
    }

    @Test func setAliasRequest() throws {
        try expectRoundTrip(Samples.setAliasRequest)
    }

    @Test func setAliasResponse() throws {
        try expectRoundTrip(Samples.setAliasResponse)
    }

    @Test func aliasChange() throws {
        try expectRoundTrip(Samples.aliasChange)
    }

    @Test func listAliasHistoryRequest() throws {
        try expectRoundTrip(Samples.listAliasHistoryRequest)
    }

    @Test func listAliasHistoryResponse() throws {
        try expectRoundTrip(Samples.listAliasHistoryResponse)
    }

    @Test func permission() throws {
        try expectRoundTrip(Samples.permission)
    }

    @Test func setPermissionRequest() throws {
        try expectRoundTrip(Samples.setPermissionRequest)
    }

    @Test func getPermissionsRequest() throws {
        try expectRoundTrip(Samples.getPermissionsRequest)
    }

    @Test func permissionsResponse() throws {
        try expectRoundTrip(Samples.permissionsResponse)
    }
}
