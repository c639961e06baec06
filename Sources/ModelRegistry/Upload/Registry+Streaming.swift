extension ModelRegistry {
    /// Uploads a version from an asynchronous sequence of chunks — the body of a client-streaming call — and
    /// aborts the upload (deleting its temporary file) if the sequence or any step fails.
    ///
    /// ```swift
    /// let version = try await registry.uploadVersion(
    ///     model: "movies", header: header, chunks: request.messages.map(\.chunk), by: principal)
    /// ```
    /// - Returns: The new version once every byte is stored and verified.
    /// - Throws: A ``RegistryError`` as described in ``VersionUpload``, or the sequence's own error unchanged
    ///   (e.g. cancellation of the client stream).
    public func uploadVersion<Chunks: AsyncSequence>(
        model: String,
        header: VersionHeader,
        chunks: Chunks,
        by principal: Principal
    ) async throws -> ModelVersion where Chunks.Element == [UInt8] {
        let upload = try self.beginUpload(model: model, header: header, by: principal)
        do {
            for try await chunk in chunks {
                try upload.append(chunk)
            }
            return try upload.finish()
        } catch {
            upload.abort()
            throw error
        }
    }
}
