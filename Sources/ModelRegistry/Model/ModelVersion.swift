public import FoundationEssentials

/// The metadata sent at the start of an upload (the stream's header message), followed by the artifact bytes.
///
/// ``sizeBytes`` and ``sha256`` are promises the bytes must keep: ``VersionUpload/finish()`` fails with `dataLoss`
/// if they don't.
public struct VersionHeader: Sendable, Hashable {
    /// What changed in this version.
    public var description: String
    /// Who built this version (free text).
    public var author: String
    /// Evaluation metrics known at upload time; ``ModelRegistry/setVersionMetrics(model:version:metrics:by:)`` can
    /// replace them later.
    public var metrics: [String: Double]
    /// What this version needs to run.
    public var dependencies: [String]
    /// The input schema of this version.
    public var inputSchema: String
    /// The output schema of this version.
    public var outputSchema: String
    /// Free-form key → value metadata.
    public var annotations: [String: String]
    /// The configuration manifest of this version, key → value.
    public var manifest: [String: String]
    /// The exact number of artifact bytes that will follow.
    public var sizeBytes: Int64
    /// The SHA-256 of the artifact bytes, 64 hex characters (either case; stored lowercase).
    public var sha256: String

    /// Creates an upload header.
    public init(
        sizeBytes: Int64,
        sha256: String,
        description: String = "",
        author: String = "",
        metrics: [String: Double] = [:],
        dependencies: [String] = [],
        inputSchema: String = "",
        outputSchema: String = "",
        annotations: [String: String] = [:],
        manifest: [String: String] = [:]
    ) {
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.description = description
        self.author = author
        self.metrics = metrics
        self.dependencies = dependencies
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
        self.manifest = manifest
    }
}

/// One immutable, numbered version of a model (1, 2, 3 … per model). Only ``metrics`` can change after upload.
public struct ModelVersion: Sendable, Hashable {
    /// The model's name.
    public var model: String
    /// The version number, starting at 1.
    public var number: Int
    /// What changed in this version.
    public var description: String
    /// Who built this version (free text).
    public var author: String
    /// Evaluation metrics; the only mutable part of a version.
    public var metrics: [String: Double]
    /// What this version needs to run.
    public var dependencies: [String]
    /// The input schema of this version.
    public var inputSchema: String
    /// The output schema of this version.
    public var outputSchema: String
    /// Free-form key → value metadata.
    public var annotations: [String: String]
    /// The configuration manifest of this version, key → value.
    public var manifest: [String: String]
    /// The artifact's size in bytes.
    public var sizeBytes: Int64
    /// The artifact's SHA-256, lowercase hex. Versions with equal hashes share one stored file.
    public var sha256: String
    /// When the upload finished.
    public var createdAt: Date
    /// The user who uploaded it.
    public var createdBy: String
    /// When ``metrics`` were last replaced, if ever.
    public var metricsUpdatedAt: Date?
    /// Who last replaced ``metrics``, if anyone.
    public var metricsUpdatedBy: String?
    /// The aliases currently pointing at this version, sorted.
    public var aliases: [String]
}

/// A record of one ``ModelRegistry/setVersionMetrics(model:version:metrics:by:)`` call.
public struct MetricsUpdate: Sendable, Hashable {
    /// The model's name.
    public var model: String
    /// The version number.
    public var version: Int
    /// The metrics the version got.
    public var metrics: [String: Double]
    /// When the metrics were set.
    public var at: Date
    /// Who set them.
    public var by: String
}
