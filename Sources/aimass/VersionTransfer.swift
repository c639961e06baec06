import AIMassAPI
import RPCCore
import RPCHTTP2

/// Downloads and uploads of a version's artifact, shared by the commands that derive a version from another
/// (`tune`, `retrain`).
enum VersionTransfer {
    /// The version's metadata and its artifact, in the chunks the server sent.
    static func download(client: APIClient, model: String, version: String?) async throws -> (Version, [[UInt8]]) {
        let download: ClientCall<DownloadVersionRequest, DownloadVersionResponse> = try await client.client
            .serverStreaming(
                ModelRegistryMethods.downloadVersion,
                request: DownloadVersionRequest(model: model, version: versionSelector(version)),
                options: client.options.callOptions(transfer: true))
        guard let first = try await download.next(), case .version(let source)? = first.part else {
            throw RPCError(code: .internalError, message: "the server did not send the version first")
        }
        var chunks: [[UInt8]] = []
        while let message = try await download.next() {
            if case .chunk(let bytes)? = message.part { chunks.append(bytes) }
        }
        return (source, chunks)
    }

    /// Uploads `chunks` under `header` (whose size is set here); returns the new version.
    static func upload(client: APIClient, header: VersionHeader, chunks: [[UInt8]]) async throws -> Version {
        var header = header
        header.sizeBytes = chunks.reduce(0) { $0 + Int64($1.count) }
        return try await client.clientStreaming(ModelRegistryMethods.uploadVersion) { upload in
            try await upload.send(UploadVersionRequest(part: .header(header)))
            for chunk in chunks { try await upload.send(UploadVersionRequest(part: .chunk(chunk))) }
        }
    }
}

/// Every recorded feedback event of a model, read page by page (`retrain`, `ab report`).
func allFeedback(client: APIClient, model: String) async throws -> [RecordedFeedback] {
    var events: [RecordedFeedback] = []
    var after: UInt64 = 0
    while true {
        let page: ListFeedbackResponse = try await client.unary(
            FeedbackMethods.listFeedback, ListFeedbackRequest(model: model, afterSequence: after, pageSize: 10_000))
        guard let last = page.events.last else { return events }
        after = last.sequence
        events += page.events
    }
}
