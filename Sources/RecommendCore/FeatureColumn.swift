/// One attribute column encoded into a feature matrix (one-hot), as named by a manifest's `user_features` or
/// `item_features` list.
///
/// Written `name` (categorical: each distinct value is a feature; a `:token_seq` column's space-separated tokens are
/// one feature each), `name/width` (a number, one feature per bucket `floor(value / width)`; a value that is not a
/// finite number, such as ML-100k's `unkonwn` release year, is a category of its own) or `name[:n]` (the first `n`
/// characters of the value, categorical). An empty value sets no feature.
///
/// ```swift
/// let columns = try FeatureColumn.parse(list: "age/10, gender, occupation, zip_code[:1]")
/// ```
public struct FeatureColumn: Hashable, Sendable, CustomStringConvertible {
    /// How a value becomes features.
    public enum Encoding: Hashable, Sendable {
        /// Each distinct value (each token of a `:token_seq` column) is a feature.
        case categorical
        /// The value is a number; each bucket `floor(value / width)` is a feature (any other value is a category).
        case bucket(width: Double)
        /// The first `length` characters of the value are a categorical feature.
        case prefix(length: Int)
    }

    /// The attribute file's column name (the header's name before `:`).
    public var name: String
    /// How its values are encoded.
    public var encoding: Encoding

    /// Creates a column spec.
    public init(_ name: String, _ encoding: Encoding = .categorical) {
        self.name = name
        self.encoding = encoding
    }

    /// The spec as the manifest writes it.
    public var description: String {
        switch self.encoding {
        case .categorical: self.name
        case .bucket(let width): "\(self.name)/\(Self.number(width))"
        case .prefix(let length): "\(self.name)[:\(length)]"
        }
    }

    /// Parses a comma-separated list of column specs.
    ///
    /// - Throws: ``RecommendError`` `invalidArgument` for an empty list or name, a width that is not a positive
    ///   number, a prefix length that is not a positive integer, or a column named twice.
    public static func parse(list text: String) throws(RecommendError) -> [FeatureColumn] {
        var columns: [FeatureColumn] = []
        for rawPart in text.split(separator: ",", omittingEmptySubsequences: false) {
            let part = rawPart.trimmingSpaces()
            let column = try Self.parse(spec: part)
            if columns.contains(where: { $0.name == column.name }) {
                throw .invalidArgument("column '\(column.name)' is named twice")
            }
            columns.append(column)
        }
        return columns
    }

    private static func parse(spec: String) throws(RecommendError) -> FeatureColumn {
        if let slash = spec.firstIndex(of: "/") {
            let name = spec[..<slash].trimmingSpaces()
            let widthText = spec[spec.index(after: slash)...].trimmingSpaces()
            guard let width = Double(widthText), width.isFinite, width > 0 else {
                throw .invalidArgument("bucket width '\(widthText)' of '\(spec)' is not a positive number")
            }
            return try FeatureColumn(Self.checked(name: name, spec: spec), .bucket(width: width))
        }
        if let bracket = spec.firstIndex(of: "["), spec.hasSuffix("]") {
            let name = spec[..<bracket].trimmingSpaces()
            let inner = spec[spec.index(after: bracket)..<spec.index(before: spec.endIndex)].trimmingSpaces()
            guard inner.hasPrefix(":"), let length = Int(inner.dropFirst()), length > 0 else {
                throw .invalidArgument("prefix '\(spec)' must be written name[:n] with n a positive integer")
            }
            return try FeatureColumn(Self.checked(name: name, spec: spec), .prefix(length: length))
        }
        return try FeatureColumn(Self.checked(name: spec, spec: spec))
    }

    private static func checked(name: String, spec: String) throws(RecommendError) -> String {
        guard !name.isEmpty, !name.contains(where: { " \t[]/:=".contains($0) }) else {
            throw .invalidArgument("'\(spec)' has no column name (expected name, name/width or name[:n])")
        }
        return name
    }

    /// A list of specs as the manifest writes it.
    static func text(_ columns: [FeatureColumn]) -> String {
        columns.map(\.description).joined(separator: ", ")
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// The feature names of one attribute value (empty for an empty value).
    func features(of value: String, tokenSequence: Bool) -> [String] {
        guard !value.isEmpty else {
            return []
        }
        switch self.encoding {
        case .categorical:
            if tokenSequence {
                return value.split(separator: " ").map { "\(self.name)=\($0)" }
            }
            return ["\(self.name)=\(value)"]
        case .bucket(let width):
            guard let number = Double(value), number.isFinite else {
                return ["\(self.name)=\(value)"]
            }
            return ["\(self.name)#\(Self.number((number / width).rounded(.down)))"]
        case .prefix(let length):
            return ["\(self.name)=\(value.prefix(length))"]
        }
    }
}
