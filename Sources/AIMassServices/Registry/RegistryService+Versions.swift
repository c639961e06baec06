import AIMassAPI
import AIMassTracing
import MeshCore
import ModelRegistry
import RPCCore
import Tracing

extension RegistryService {
    func registerVersionMethods(with router: inout RPCRouter) {
        router.registerClientStreaming(ModelRegistryMethods.uploadVersion) {
            (requests: RPCRequestStream<UploadVersionRequest>, context) in
            try await self.uploadVersion(requests, context: context)
        }
        router.registerUnary(ModelRegistryMethods.getVersion) { (request: GetVersionRequest, context) in
            try self.getVersion(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.listVersions) { (request: ListVersionsRequest, context) in
            try self.listVersions(request, context: context)
        }
        router.registerUnary(ModelRegistryMethods.deleteVersion) { (request: DeleteVersionRequest, context) in
            try self.deleteVersion(request, context: context)
        }
        router.registerServerStreaming(ModelRegistryMethods.downloadVersion) {
            (request: DownloadVersionRequest, writer: RPCWriter<DownloadVersionResponse>, context) in
            try await self.downloadVersion(request, writer: writer, context: context)
        }
        router.registerUnary(ModelRegistryMethods.diffVersions) { (request: DiffVersionsRequest, context) in
            try self.diffVersions(request, context: context)
        }
    }

    /// Header first, then chunks into a ``VersionUpload``; on any error or cancellation the upload is aborted, so
    /// nothing partial is stored.
    func uploadVersion(_ requests: RPCRequestStream<UploadVersionRequest>, context: ServerContext) async throws
        -> Version
    {
        let principal = try registry.principal(for: context)
        var messages = requests.makeAsyncIterator()
        guard let first = try await messages.next() else {
            throw RPCError(code: .invalidArgument, message: "UploadVersion: the stream ended before the header; nothing stored")
        }
        guard case .header(let header)? = first.part else {
            throw RPCError(
                code: .invalidArgument,
                message: "UploadVersion: the first message must be a header, got \(first.part == nil ? "an empty message" : "a chunk"); nothing stored"
            )
        }
        try Self.requireName(header.model, field: "header.model")
        let upload = try hidingUnreadable(header.model, principal) { () throws -> VersionUpload in
            let model = try self.registry.getModel(header.model, by: principal)
            let domainHeader = try RegistryConversions.domainHeader(header, model: model)
            let upload = try self.registry.beginUpload(model: header.model, header: domainHeader, by: principal)
            do {
                // After the role check, before any byte: a manifest the replicas cannot load is refused here.
                try Self.validateManifest(domainHeader.manifest, model: header.model)
            } catch {
                upload.abort()
                throw error
            }
            return upload
        }
        // The bytes' arrival and storage, hashing and publication: the upload's own span.
        return try await context.withAsyncSpan("registry.upload") { span in
            span?.attributes["aimass.model"] = header.model
            do {
                var index = 1
                while let message = try await messages.next() {
                    switch message.part {
                    case .chunk(let bytes)?:
                        guard !bytes.isEmpty else {
                            throw RPCError(
                                code: .invalidArgument,
                                message: "UploadVersion to model '\(header.model)': message \(index) is an empty chunk"
                            )
                        }
                        try upload.append(bytes)
                    case .header?:
                        throw RPCError(
                            code: .invalidArgument,
                            message: "UploadVersion to model '\(header.model)': message \(index) is a second header"
                        )
                    case nil:
                        throw RPCError(
                            code: .invalidArgument,
                            message: "UploadVersion to model '\(header.model)': message \(index) has neither header nor chunk"
                        )
                    }
                    index += 1
                }
                if context.isCancelled || Task.isCancelled {
                    throw RPCError(code: .cancelled, message: "UploadVersion to model '\(header.model)' was cancelled")
                }
                let version = try upload.finish()
                span?.attributes["aimass.version"] = Int64(version.number)
                span?.attributes["aimass.bytes"] = version.sizeBytes
                RegistryMetrics.uploaded(model: header.model, bytes: version.sizeBytes)
                context.logger.info(
                    "published version",
                    metadata: ["model": "\(version.model)", "version": "\(version.number)", "bytes": "\(version.sizeBytes)"]
                )
                let published = RegistryConversions.apiVersion(version, latestNumber: version.number)
                onMeshEvent?(MeshCore.MeshEvent.Payload.versionPublished(MeshCore.ModelVersion(published)))
                return published
            } catch {
                upload.abort()
                RegistryMetrics.uploadFailed(model: header.model)
                throw error
            }
        }
    }

    func getVersion(_ request: GetVersionRequest, context: ServerContext) throws -> Version {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        let reference = try RegistryConversions.reference(request.version, model: request.model)
        return try context.withSpan("registry.read") { span in
            span?.attributes["aimass.model"] = request.model
            return try hidingUnreadable(request.model, principal) {
                let version = try self.registry.getVersion(model: request.model, reference, by: principal)
                span?.attributes["aimass.version"] = Int64(version.number)
                let latest = try self.registry.getModel(request.model, by: principal).latestVersion
                return RegistryConversions.apiVersion(version, latestNumber: latest)
            }
        }
    }

    func listVersions(_ request: ListVersionsRequest, context: ServerContext) throws -> ListVersionsResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        return try hidingUnreadable(request.model, principal) {
            // Oldest first from the core; the token is the number of (oldest) versions still to list.
            let all = try context.withSpan("registry.read") { span in
                span?.attributes["aimass.model"] = request.model
                return try self.registry.listVersions(model: request.model, by: principal)
            }
            let end = try RegistryConversions.pagePosition(request.pageToken, kind: "v", limit: all.count) ?? all.count
            let start = max(0, end - RegistryConversions.pageSize(request.pageSize))
            let latest = all.last?.number
            return ListVersionsResponse(
                versions: all[start..<end].reversed().map { RegistryConversions.apiVersion($0, latestNumber: latest) },
                nextPageToken: start > 0 ? RegistryConversions.pageToken(kind: "v", position: start) : ""
            )
        }
    }

    func deleteVersion(_ request: DeleteVersionRequest, context: ServerContext) throws -> DeleteVersionResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        guard request.version > 0 else {
            throw RPCError(code: .invalidArgument, message: "`version` is required: the number of the version to delete")
        }
        let inUse = self.versionInUse
        try hidingUnreadable(request.model, principal) {
            try self.registry.deleteVersion(model: request.model, number: Int(request.version), by: principal) {
                inUse?($0, UInt32($1))
            }
        }
        context.logger.info("deleted version", metadata: ["model": "\(request.model)", "version": "\(request.version)"])
        return DeleteVersionResponse()
    }

    /// The version first, then 64 KiB chunks from `offset`. The reader re-hashes every byte (those before `offset`
    /// too), so a corrupt artifact ends the stream with `DATA_LOSS`.
    func downloadVersion(
        _ request: DownloadVersionRequest,
        writer: RPCWriter<DownloadVersionResponse>,
        context: ServerContext
    ) async throws {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        let reference = try RegistryConversions.reference(request.version, model: request.model)
        let (reader, latest) = try context.withSpan("registry.read") { span in
            span?.attributes["aimass.model"] = request.model
            return try hidingUnreadable(request.model, principal) { () throws -> (ArtifactReader, Int?) in
                let reader = try self.registry.openArtifact(model: request.model, version: reference, by: principal)
                span?.attributes["aimass.version"] = Int64(reader.version.number)
                return (reader, try self.registry.getModel(request.model, by: principal).latestVersion)
            }
        }
        defer { reader.close() }
        let version = reader.version
        guard request.offset >= 0, request.offset <= version.sizeBytes else {
            throw RPCError(
                code: .invalidArgument,
                message: "offset \(request.offset) is outside the artifact of model '\(version.model)' version \(version.number) (\(version.sizeBytes) bytes)"
            )
        }
        try await writer.write(DownloadVersionResponse(part: .version(RegistryConversions.apiVersion(version, latestNumber: latest))))
        var skip = request.offset
        while skip > 0 {
            let bytes = try reader.read(upTo: Int(min(skip, 1 << 20)))
            if bytes.isEmpty { break }
            skip -= Int64(bytes.count)
        }
        while true {
            let chunk = try reader.read(upTo: Self.downloadChunkSize)
            if chunk.isEmpty { break }
            try await writer.write(DownloadVersionResponse(part: .chunk(chunk)))
        }
    }

    func diffVersions(_ request: DiffVersionsRequest, context: ServerContext) throws -> DiffVersionsResponse {
        let principal = try registry.principal(for: context)
        try Self.requireName(request.model, field: "model")
        let newReference = try RegistryConversions.reference(request.newVersion, model: request.model)
        let oldSelector = request.oldVersion
        let oldIsEmpty = oldSelector == nil || (oldSelector?.number == 0 && oldSelector?.alias == "")
        return try hidingUnreadable(request.model, principal) {
            let new = try self.registry.getVersion(model: request.model, newReference, by: principal)
            let oldReference: VersionReference
            if oldIsEmpty {
                guard new.number > 1 else {
                    throw RPCError(
                        code: .invalidArgument,
                        message: "model '\(request.model)' has no version before version \(new.number) to compare with"
                    )
                }
                oldReference = .number(new.number - 1)
            } else {
                oldReference = try RegistryConversions.reference(oldSelector, model: request.model)
            }
            let old = try self.registry.getVersion(model: request.model, oldReference, by: principal)
            return DiffVersionsResponse(
                model: new.model,
                oldVersion: UInt32(clamping: old.number),
                newVersion: UInt32(clamping: new.number),
                changes: RegistryConversions.diff(old, new)
            )
        }
    }
}
