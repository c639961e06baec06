import FoundationEssentials

/// User or item attributes: a RecBole-style atomic file (`ml-100k.user`, `ml-100k.item`), one row per id.
///
/// The first non-blank, non-`#` line is the header: `name[:type]` fields separated by tabs (or by commas when the
/// line has no tab). The first column is the id; a `:token_seq` column holds space-separated tokens. Each later line
/// is one row; fields are trimmed, a row may have fewer fields than the header (the rest are empty) but not more.
///
/// ```swift
/// let users = try AttributeTable(parsing: "user_id:token\tage:token\tgender:token\n1\t24\tM\n")
/// users.values(of: "1")   // ["24", "M"]
/// ```
public struct AttributeTable: Hashable, Sendable {
    /// A column of the header.
    public struct Column: Hashable, Sendable {
        /// The name before `:`.
        public var name: String
        /// The type after `:` (`token` when none is given).
        public var type: String
    }

    /// The id column.
    public let idColumn: Column
    /// The attribute columns (every column after the id).
    public let columns: [Column]
    private var rows: [String: Row]

    private struct Row: Hashable, Sendable {
        var line: Int
        var values: [String]
    }

    /// Parses an attribute file (see the type's documentation for the format).
    ///
    /// - Throws: ``RecommendError`` `malformedInput` naming the line for a missing header, a row with more fields
    ///   than the header, an empty id, or an id given twice.
    public init(parsing text: String) throws(RecommendError) {
        var header: [Column]?
        var delimiter: Character = "\t"
        var rows: [String: Row] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.trimmingSpaces().isEmpty || line.trimmingSpaces().hasPrefix("#") {
                continue
            }
            guard let columns = header else {
                delimiter = line.contains("\t") ? "\t" : ","
                header = line.split(separator: delimiter, omittingEmptySubsequences: false).map { field in
                    let parts = field.trimmingSpaces().split(separator: ":", maxSplits: 1)
                    return Column(name: parts.first.map(String.init) ?? "", type: parts.count > 1 ? String(parts[1]) : "token")
                }
                continue
            }
            var values = line.split(separator: delimiter, omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
            guard values.count <= columns.count else {
                throw .malformed(line: lineNumber, "\(values.count) fields, the header has \(columns.count)")
            }
            values += [String](repeating: "", count: columns.count - values.count)
            let id = values.removeFirst()
            guard !id.isEmpty else {
                throw .malformed(line: lineNumber, "empty id")
            }
            if let first = rows[id] {
                throw .malformed(line: lineNumber, "id '\(id)' repeats the row on line \(first.line)")
            }
            rows[id] = Row(line: lineNumber, values: values)
        }
        guard let header, header.count >= 1 else {
            throw .malformed(line: max(lineNumber, 1), "attribute file has no header line (id:token, name:type, ...)")
        }
        self.idColumn = header[0]
        self.columns = Array(header.dropFirst())
        self.rows = rows
    }

    /// Reads and parses an attribute file.
    ///
    /// - Throws: ``RecommendError`` `ioError` when the file cannot be read, otherwise as ``init(parsing:)``.
    public init(contentsOfFile path: String) throws(RecommendError) {
        let data = try RecommendError.reading(path)
        try self.init(parsing: String(decoding: data, as: UTF8.self))
    }

    /// How many ids have a row.
    public var count: Int {
        self.rows.count
    }

    /// The attribute values of an id, in ``columns`` order, or `nil` when it has no row.
    public func values(of id: String) -> [String]? {
        self.rows[id]?.values
    }

    /// The one-hot feature matrix (ids × features, every value 1, columns ascending) of `ids` for `columns`; an id
    /// without a row has no features. `what` names the file in errors ("user attributes").
    ///
    /// - Throws: ``RecommendError`` `invalidArgument` for a column the file does not have.
    func featureMatrix(ids: [String], columns: [FeatureColumn], what: String) throws(RecommendError) -> SparseMatrix {
        var positions: [(column: FeatureColumn, position: Int, tokens: Bool)] = []
        for column in columns {
            guard let position = self.columns.firstIndex(where: { $0.name == column.name }) else {
                let names = self.columns.map(\.name).joined(separator: ", ")
                throw .invalidArgument("\(what) have no column '\(column.name)' (columns: \(names))")
            }
            positions.append((column, position, self.columns[position].type == "token_seq"))
        }
        var featureIndex: [String: Int32] = [:]
        var rowStart = [0]
        var indices: [Int32] = []
        for id in ids {
            var rowFeatures = Set<Int32>()
            if let row = self.rows[id] {
                for (column, position, tokens) in positions {
                    for name in column.features(of: row.values[position], tokenSequence: tokens) {
                        let next = Int32(featureIndex.count)
                        rowFeatures.insert(featureIndex[name, default: next])
                        if featureIndex[name] == nil { featureIndex[name] = next }
                    }
                }
            }
            indices.append(contentsOf: rowFeatures.sorted())
            rowStart.append(indices.count)
        }
        return SparseMatrix(
            rowCount: ids.count,
            columnCount: featureIndex.count,
            rowStart: rowStart,
            columns: indices,
            values: [Double](repeating: 1, count: indices.count)
        )
    }
}
