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
        try self.featureEncoding(ids: ids, columns: columns, what: what).matrix
    }

    /// The title column: the first named `title` or ending in `_title` (ML-100k's `movie_title`), if any. It is
    /// metadata shown with a recommendation, never a feature.
    public var titleColumn: Column? {
        self.columns.first { $0.name == "title" || $0.name.hasSuffix("_title") }
    }

    /// The title of an id, when the file has a title column and the id a non-empty one; with a `release_year` or
    /// `year` column holding a number, the year follows in parentheses, as MovieLens writes its titles
    /// ("Star Wars (1977)": RecBole's `ml-100k.item` keeps the two apart).
    public func title(of id: String) -> String? {
        guard let column = self.titleColumn, let position = self.columns.firstIndex(of: column),
            let values = self.rows[id]?.values, !values[position].isEmpty
        else {
            return nil
        }
        guard let yearPosition = self.columns.firstIndex(where: { $0.name == "release_year" || $0.name == "year" }),
            !values[yearPosition].isEmpty, values[yearPosition].allSatisfy(\.isNumber)
        else {
            return values[position]
        }
        return "\(values[position]) (\(values[yearPosition]))"
    }

    /// Every column except the title, each categorical: what cold start compares when the manifest names none.
    var categoricalFeatureColumns: [FeatureColumn] {
        self.columns.filter { $0 != self.titleColumn }.map { FeatureColumn($0.name) }
    }

    /// The one-hot matrix of `ids` for `columns` (as ``featureMatrix(ids:columns:what:)``) and the encoder that maps
    /// another row's values onto the same features.
    ///
    /// - Throws: ``RecommendError`` `invalidArgument` for a column the file does not have, or for the title column.
    func featureEncoding(
        ids: [String], columns: [FeatureColumn], what: String
    ) throws(RecommendError) -> (matrix: SparseMatrix, encoder: FeatureEncoder) {
        var positions: [FeatureEncoder.Position] = []
        for column in columns {
            guard let position = self.columns.firstIndex(where: { $0.name == column.name }) else {
                let names = self.columns.map(\.name).joined(separator: ", ")
                throw .invalidArgument("\(what) have no column '\(column.name)' (columns: \(names))")
            }
            if self.columns[position] == self.titleColumn {
                throw .invalidArgument(
                    "column '\(column.name)' of the \(what) is the title: metadata shown with results, not a feature")
            }
            positions.append(.init(column: column, position: position, tokens: self.columns[position].type == "token_seq"))
        }
        var encoder = FeatureEncoder(columnNames: self.columns.map(\.name), positions: positions)
        var rowStart = [0]
        var indices: [Int32] = []
        for id in ids {
            if let row = self.rows[id] {
                indices.append(contentsOf: encoder.encode(row.values, adding: true))
            }
            rowStart.append(indices.count)
        }
        let matrix = SparseMatrix(
            rowCount: ids.count,
            columnCount: encoder.featureCount,
            rowStart: rowStart,
            columns: indices,
            values: [Double](repeating: 1, count: indices.count)
        )
        return (matrix, encoder)
    }
}

/// Maps a row of attribute values onto feature indices (one-hot), learning new features while a matrix is built
/// and ignoring unseen ones afterwards (a cold-start user's value that no stored user has shares nothing).
struct FeatureEncoder: Sendable {
    struct Position: Sendable {
        var column: FeatureColumn
        var position: Int
        var tokens: Bool
    }

    /// The attribute file's column names, in order (to read a row given as a name → value map).
    let columnNames: [String]
    let positions: [Position]
    private var featureIndex: [String: Int32] = [:]

    init(columnNames: [String], positions: [Position]) {
        self.columnNames = columnNames
        self.positions = positions
    }

    var featureCount: Int { self.featureIndex.count }

    /// The distinct feature indices of a row (values in the file's column order), ascending; `adding` gives unseen
    /// features new indices, otherwise they are left out.
    mutating func encode(_ values: [String], adding: Bool) -> [Int32] {
        var features = Set<Int32>()
        for name in self.featureNames(values) {
            if let index = self.featureIndex[name] {
                features.insert(index)
            } else if adding {
                let index = Int32(self.featureIndex.count)
                self.featureIndex[name] = index
                features.insert(index)
            }
        }
        return features.sorted()
    }

    /// The known feature indices of a row (values in the file's column order) and how many distinct features it
    /// has, seen or not (a value no stored row has still counts in the row's norm).
    func lookUp(_ values: [String]) -> (known: [Int32], count: Int) {
        let names = Set(self.featureNames(values))
        return (names.compactMap { self.featureIndex[$0] }.sorted(), names.count)
    }

    /// ``lookUp(_:)`` of a row given by column name (names the file does not have set nothing).
    func lookUp(named values: [String: String]) -> (known: [Int32], count: Int) {
        self.lookUp(self.columnNames.map { values[$0] ?? "" })
    }

    private func featureNames(_ values: [String]) -> [String] {
        self.positions.filter { $0.position < values.count }.flatMap { entry in
            entry.column.features(of: values[entry.position], tokenSequence: entry.tokens)
        }
    }
}
