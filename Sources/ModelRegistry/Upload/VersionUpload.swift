import Synchronization

/// An upload in progress: created by ``ModelRegistry/beginUpload(model:header:by:)`` with the version's header,
/// fed with ``append(_:)``, completed by ``finish()`` or dropped by ``abort()``.
///
/// Bytes go to a temporary file `DATADIR/tmp/upload-<random>` while they are hashed. ``finish()`` checks the size
/// and the SHA-256 against the header, fsyncs the file, renames it to its content-addressed path
/// `artifacts/sha256/ab/abcdef…` (fsyncing the directory), and only then inserts the version row in one SQLite
/// transaction. Until that commit the version does not exist for anyone; after it, it survives any crash.
///
/// ```swift
/// let upload = try registry.beginUpload(model: "movies", header: header, by: alice)
/// do {
///     for chunk in chunks { try upload.append(chunk) }
///     let version = try upload.finish()
/// } catch {
///     upload.abort()   // harmless if the upload already failed
///     throw error
/// }
/// ```
///
/// Any error makes the upload fail for good: the temporary file is deleted at once and later calls throw
/// `failedPrecondition`. Dropping an unfinished upload aborts it. Calls are serialised, so the object may be used
/// from any task, though an upload is naturally driven by one.
///
/// Size rules (the header's ``VersionHeader/sizeBytes`` is a promise):
/// - more bytes than ``ModelRegistry/Configuration/maxArtifactBytes`` → `resourceExhausted`, on the chunk that
///   crosses the limit;
/// - more bytes than declared → `dataLoss`, on the chunk that crosses the declared size;
/// - ``finish()`` with fewer bytes than declared → `invalidArgument` (the stream ended early: a client error, not
///   damaged data);
/// - the right number of bytes with another SHA-256 → `dataLoss`.
public final class VersionUpload: Sendable {
    /// The model's name when the upload began.
    public let model: String
    /// The validated header (sha256 in lowercase).
    public let header: VersionHeader

    private let registry: ModelRegistry
    private let modelID: Int64
    private let principal: Principal
    private let limit: Int64
    private let state: Mutex<State>

    private enum State {
        case receiving(Receiving)
        case finished(ModelVersion)
        case failed(RegistryError)
        case aborted
    }

    /// The open temporary file and the running hash; owned by the upload's state.
    private final class Receiving {
        let file: FileHandle
        let hasher: SHA256Hasher
        var received: Int64 = 0

        init(file: FileHandle, hasher: SHA256Hasher) {
            self.file = file
            self.hasher = hasher
        }
    }

    init(
        registry: ModelRegistry,
        model: ModelRef,
        header: VersionHeader,
        principal: Principal,
        temporaryPath: String,
        limit: Int64
    ) throws(RegistryError) {
        let hasher = try SHA256Hasher()
        let file = try FileHandle.create(temporaryPath)
        self.registry = registry
        self.model = model.name
        self.modelID = model.id
        self.header = header
        self.principal = principal
        self.limit = limit
        self.state = Mutex(.receiving(Receiving(file: file, hasher: hasher)))
    }

    deinit {
        self.abort()
    }

    /// The number of bytes accepted so far.
    public var receivedBytes: Int64 {
        self.state.withLock { state in
            switch state {
            case .receiving(let receiving): receiving.received
            case .finished(let version): version.sizeBytes
            case .failed, .aborted: 0
            }
        }
    }

    /// Appends the next chunk of artifact bytes.
    ///
    /// - Throws: `resourceExhausted` past the size limit, `dataLoss` past the declared size, `failedPrecondition`
    ///   after the upload finished, failed or was aborted; `resourceExhausted`/`internal` for disk errors.
    public func append(_ chunk: [UInt8]) throws(RegistryError) {
        try chunk.withBytes { (buffer) throws(RegistryError) in try self.append(contentsOf: buffer) }
    }

    /// Appends the next chunk of artifact bytes from a buffer (no copy; for bytes owned by a C message).
    ///
    /// - Throws: As ``append(_:)``.
    public func append(contentsOf buffer: UnsafeRawBufferPointer) throws(RegistryError) {
        let borrowed = BorrowedBytes(buffer: buffer)
        try self.state.withLock { (state) throws(RegistryError) in
            let buffer = borrowed.buffer
            guard case .receiving(let receiving) = state else { throw self.unusable(state) }
            let total = receiving.received + Int64(buffer.count)
            if total > self.limit {
                throw Self.fail(
                    &state,
                    .resourceExhausted(
                        "upload to model '\(self.model)' exceeds the artifact size limit of \(self.limit) bytes"
                    )
                )
            }
            if total > self.header.sizeBytes {
                throw Self.fail(
                    &state,
                    .dataLoss(
                        "upload to model '\(self.model)' sent more than the declared \(self.header.sizeBytes) bytes"
                    )
                )
            }
            do throws(RegistryError) {
                try receiving.hasher.update(buffer)
                try receiving.file.write(buffer)
            } catch {
                throw Self.fail(&state, error)
            }
            receiving.received = total
        }
    }

    /// Verifies the bytes, stores the artifact durably and publishes the version.
    ///
    /// - Returns: The new version, numbered one above the model's highest.
    /// - Throws: `invalidArgument` if fewer bytes than declared arrived, `dataLoss` on a SHA-256 mismatch,
    ///   `notFound` if the model was deleted meanwhile, `permissionDenied` if the uploader lost the writer role,
    ///   `failedPrecondition` if the upload is no longer open or the registry was closed. On any error nothing is
    ///   stored.
    public func finish() throws(RegistryError) -> ModelVersion {
        try self.state.withLock { (state) throws(RegistryError) -> ModelVersion in
            guard case .receiving(let receiving) = state else { throw self.unusable(state) }
            guard receiving.received == self.header.sizeBytes else {
                throw Self.fail(
                    &state,
                    .invalidArgument(
                        "upload to model '\(self.model)' ended early: received \(receiving.received) of "
                            + "\(self.header.sizeBytes) declared bytes"
                    )
                )
            }
            do throws(RegistryError) {
                let digest = try receiving.hasher.finish()
                guard digest == self.header.sha256 else {
                    throw RegistryError.dataLoss(
                        "upload to model '\(self.model)': the bytes have sha256 \(digest), "
                            + "but the header declared \(self.header.sha256)"
                    )
                }
                try receiving.file.sync()
                try receiving.file.close()
                let version = try self.registry.commitVersion(
                    modelID: self.modelID,
                    header: self.header,
                    temporaryPath: receiving.file.path,
                    by: self.principal
                )
                state = .finished(version)
                return version
            } catch {
                throw Self.fail(&state, error)
            }
        }
    }

    /// Drops the upload and deletes its temporary file. Does nothing if it already finished, failed or was aborted.
    public func abort() {
        self.state.withLock { state in
            guard case .receiving = state else { return }
            _ = Self.fail(&state, .failedPrecondition("upload was aborted"))
            state = .aborted
        }
    }

    /// Moves to `.failed`, closing and deleting the temporary file; returns `error` for throwing.
    private static func fail(_ state: inout State, _ error: RegistryError) -> RegistryError {
        if case .receiving(let receiving) = state {
            try? receiving.file.close()
            // After a successful rename the temporary path no longer exists; removing it is then a no-op.
            _ = try? FileSystem.removeFile(receiving.file.path)
        }
        state = .failed(error)
        return error
    }

    /// The caller's bytes, read only for the duration of ``append(contentsOf:)`` (hashed and written, never
    /// stored). `@unchecked Sendable` because region analysis cannot see through the hasher and file calls that
    /// the buffer never becomes part of the upload's state.
    private struct BorrowedBytes: @unchecked Sendable {
        let buffer: UnsafeRawBufferPointer
    }

    private func unusable(_ state: State) -> RegistryError {
        switch state {
        case .receiving: .internal("upload is open")
        case .finished(let version):
            .failedPrecondition("upload to model '\(self.model)' already finished as version \(version.number)")
        case .failed(let error):
            .failedPrecondition("upload to model '\(self.model)' already failed: \(error.message)")
        case .aborted: .failedPrecondition("upload to model '\(self.model)' was aborted")
        }
    }
}
