import Synchronization

/// Reads one version's artifact in chunks, for a download stream. Opened by
/// ``ModelRegistry/openArtifact(model:version:by:)``.
///
/// The reader owns an open file descriptor on the immutable, content-addressed file, so it keeps working even if
/// the model is deleted or the registry closed meanwhile. It re-hashes the bytes as they are read: the read that
/// reaches the end throws `dataLoss` if the file no longer matches the version's size and SHA-256, so a client never
/// gets a silently corrupt artifact with a success status.
///
/// ```swift
/// let reader = try registry.openArtifact(model: "movies", version: "production", by: alice)
/// while true {
///     let chunk = try reader.read(upTo: 64 * 1024)
///     if chunk.isEmpty { break }
///     try await send(chunk)
/// }
/// ```
public final class ArtifactReader: Sendable {
    /// The version being read.
    public let version: ModelVersion
    /// The chunk size of ``read(upTo:)`` when none is given.
    public static let defaultChunkSize = 64 * 1024

    private let state: Mutex<State>

    private struct State {
        var file: FileHandle?
        var hasher: SHA256Hasher?
        var bytesRead: Int64 = 0
    }

    init(version: ModelVersion, path: String) throws(RegistryError) {
        let file: FileHandle
        do throws(RegistryError) {
            file = try FileHandle.openForReading(path)
        } catch {
            if error.code == .notFound {
                throw .dataLoss(
                    "artifact of model '\(version.model)' version \(version.number) (sha256 \(version.sha256)) is missing"
                )
            }
            throw error
        }
        self.version = version
        self.state = Mutex(State(file: file, hasher: try SHA256Hasher()))
    }

    /// The number of bytes returned so far.
    public var bytesRead: Int64 { self.state.withLock { $0.bytesRead } }

    /// Returns the next chunk of at most `maxBytes` bytes; an empty array at the end (and after ``close()``).
    ///
    /// - Throws: `invalidArgument` if `maxBytes` is not positive; `dataLoss` at the end if the bytes do not match
    ///   the version's size and SHA-256; `internal` on read errors.
    public func read(upTo maxBytes: Int = ArtifactReader.defaultChunkSize) throws(RegistryError) -> [UInt8] {
        guard maxBytes > 0 else { throw .invalidArgument("chunk size must be positive, got \(maxBytes)") }
        return try self.state.withLock { (state) throws(RegistryError) -> [UInt8] in
            guard let file = state.file, let hasher = state.hasher else { return [] }
            let chunk = try file.read(upTo: maxBytes)
            try chunk.withBytes { (buffer) throws(RegistryError) in try hasher.update(buffer) }
            state.bytesRead += Int64(chunk.count)
            if state.bytesRead > self.version.sizeBytes {
                state.file = nil
                throw self.corrupt("is larger than its recorded \(self.version.sizeBytes) bytes")
            }
            if chunk.isEmpty {
                state.file = nil
                state.hasher = nil
                guard state.bytesRead == self.version.sizeBytes else {
                    throw self.corrupt("has \(state.bytesRead) bytes, not its recorded \(self.version.sizeBytes)")
                }
                let digest = try hasher.finish()
                guard digest == self.version.sha256 else { throw self.corrupt("has sha256 \(digest)") }
            }
            return chunk
        }
    }

    /// Closes the file early. Safe to call more than once; also done on deallocation.
    public func close() {
        self.state.withLock { state in
            state.file = nil
            state.hasher = nil
        }
    }

    private func corrupt(_ detail: String) -> RegistryError {
        .dataLoss(
            "artifact of model '\(self.version.model)' version \(self.version.number) "
                + "(sha256 \(self.version.sha256)) is damaged: it \(detail)"
        )
    }
}
