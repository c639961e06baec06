public import FoundationEssentials

/// A registered model: its name, the metadata users edit, and fields the registry maintains.
///
/// Pass a `Model` to ``ModelRegistry/createModel(_:by:)`` and ``ModelRegistry/updateModel(_:with:fieldMask:by:)``;
/// the registry-maintained fields (``createdAt``, ``updatedAt``, ``createdBy``, ``latestVersion``, ``sizeBytes``)
/// are ignored on input, like output-only fields of a protobuf message.
///
/// ```swift
/// let model = try registry.createModel(
///     Model(name: "movies-itemcf", description: "Item-based CF on MovieLens", tags: ["movies"]),
///     by: alice
/// )
/// ```
public struct Model: Sendable, Hashable {
    /// Unique name: 1–128 characters of `[A-Za-z0-9._-]`, not starting with `.`. Editable (a rename).
    public var name: String
    /// Free text, at most 16 KiB.
    public var description: String
    /// Who built the model (free text, not a registry user).
    public var author: String
    /// Labels for filtering; stored de-duplicated and sorted. Each 1–64 printable characters without spaces.
    public var tags: [String]
    /// The schema of the model's input, in any notation (JSON Schema, a proto message name, prose).
    public var inputSchema: String
    /// The schema of the model's output.
    public var outputSchema: String
    /// Evaluation metrics at model level, e.g. `["ndcg@10": 0.31]`. Values must be finite.
    public var metrics: [String: Double]
    /// What the model needs to run, e.g. `["recommend-core>=1"]`.
    public var dependencies: [String]
    /// What the model is for and what it is not for.
    public var intendedUse: String
    /// Free-form key → value metadata.
    public var annotations: [String: String]
    /// The configuration manifest, key → value (e.g. `algorithm: itemcf`, `neighbours: 50`).
    public var manifest: [String: String]

    /// When the model was registered. Set by the registry.
    public internal(set) var createdAt: Date
    /// When the model's metadata last changed. Set by the registry.
    public internal(set) var updatedAt: Date
    /// The user who registered the model (and became its first owner). Set by the registry.
    public internal(set) var createdBy: String
    /// The highest version number, or `nil` if no version has been uploaded. Set by the registry.
    public internal(set) var latestVersion: Int?
    /// The artifact size of ``latestVersion`` in bytes, 0 without versions. Set by the registry.
    public internal(set) var sizeBytes: Int64

    /// Creates a model description to register; registry-maintained fields start empty.
    public init(
        name: String,
        description: String = "",
        author: String = "",
        tags: [String] = [],
        inputSchema: String = "",
        outputSchema: String = "",
        metrics: [String: Double] = [:],
        dependencies: [String] = [],
        intendedUse: String = "",
        annotations: [String: String] = [:],
        manifest: [String: String] = [:]
    ) {
        self.name = name
        self.description = description
        self.author = author
        self.tags = tags
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.metrics = metrics
        self.dependencies = dependencies
        self.intendedUse = intendedUse
        self.annotations = annotations
        self.manifest = manifest
        self.createdAt = Date(timeIntervalSince1970: 0)
        self.updatedAt = Date(timeIntervalSince1970: 0)
        self.createdBy = ""
        self.latestVersion = nil
        self.sizeBytes = 0
    }
}

/// The editable fields of a ``Model``, named as in a protobuf field mask (`snake_case`).
///
/// ``ModelRegistry/updateModel(_:with:fieldMask:by:)`` accepts these names, their camelCase spellings
/// (`inputSchema`) and `*` for all of them.
public enum ModelField: String, Sendable, Hashable, CaseIterable {
    case name
    case description
    case author
    case tags
    case inputSchema = "input_schema"
    case outputSchema = "output_schema"
    case metrics
    case dependencies
    case intendedUse = "intended_use"
    case annotations
    case manifest

    /// Fields of ``Model`` that only the registry sets; naming one in a field mask is `invalidArgument`.
    public static let outputOnly: Set<String> = [
        "created_at", "createdAt", "updated_at", "updatedAt", "created_by", "createdBy",
        "latest_version", "latestVersion", "size_bytes", "sizeBytes",
    ]

    /// Parses a field-mask path (`snake_case` or camelCase).
    public init?(path: String) {
        if let field = ModelField(rawValue: path) {
            self = field
            return
        }
        guard let field = ModelField.allCases.first(where: { $0.camelCaseName == path }) else { return nil }
        self = field
    }

    /// The camelCase spelling (`inputSchema`), as used by JSON field masks.
    public var camelCaseName: String {
        let parts = self.rawValue.split(separator: "_")
        guard let first = parts.first else { return self.rawValue }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
