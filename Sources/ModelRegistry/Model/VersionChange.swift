/// One difference between two versions, as returned by ``ModelRegistry/diffVersions(model:from:to:by:)``.
///
/// `field` names what changed: a scalar field (`description`, `author`, `input_schema`, `output_schema`,
/// `dependencies`, `size_bytes`, `sha256`), or one key of a map as `manifest.<key>`, `annotations.<key>`,
/// `metrics.<key>`. Values are rendered as text; `old == nil` means added, `new == nil` removed.
public struct VersionChange: Sendable, Hashable, CustomStringConvertible {
    /// What changed, e.g. `manifest.neighbours`.
    public var field: String
    /// The value in the first version, `nil` if absent there.
    public var old: String?
    /// The value in the second version, `nil` if absent there.
    public var new: String?

    /// Creates a change record.
    public init(field: String, old: String?, new: String?) {
        self.field = field
        self.old = old
        self.new = new
    }

    /// Whether the field was added, removed or changed.
    public enum Kind: Sendable, Hashable {
        case added, removed, changed
    }

    /// Added, removed or changed, from which side is `nil`.
    public var kind: Kind {
        switch (self.old, self.new) {
        case (nil, _): .added
        case (_, nil): .removed
        default: .changed
        }
    }

    public var description: String { "\(self.field): \(self.old ?? "∅") → \(self.new ?? "∅")" }
}
