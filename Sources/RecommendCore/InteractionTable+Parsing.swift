import FoundationEssentials

extension InteractionTable {
    /// Parses an interactions table: one row per line, `user item [rating [timestamp]]`.
    ///
    /// - The delimiter is a tab if the first non-blank line has one, else a comma if it has one, else runs of spaces.
    ///   Fields are trimmed of spaces; quoting is not supported.
    /// - Blank lines and lines starting with `#` are skipped.
    /// - The first non-blank line is a header when, with each field lower-cased and cut at its first `:` (RecBole's
    ///   `user_id:token`), it names both a user and an item column. A header maps columns by name: user
    ///   (`user`, `user_id`, `userid`, `uid`), item (`item`, `item_id`, `itemid`, `iid`, `movie_id`, `movieid`),
    ///   rating (`rating`, `score`, `value`, `weight`) and timestamp (`timestamp`, `time`, `ts`). Without a header the
    ///   columns are positional.
    ///
    /// ```swift
    /// let table = try InteractionTable(parsing: "user_id:token\titem_id:token\trating:float\n1\t10\t4\n")
    /// ```
    ///
    /// - Parameter text: The file's text.
    /// - Throws: ``RecommendError`` with code `malformedInput` naming the line of a row with a missing or empty id
    ///   or a rating or timestamp that is not a finite number.
    public init(parsing text: String) throws(RecommendError) {
        var text = text
        let result = text.withUTF8 { bytes in Result { () throws(RecommendError) in try Self.parse(bytes) } }
        self = try result.get()
    }

    /// Reads and parses an interactions file (see ``init(parsing:)`` for the format).
    ///
    /// - Parameter path: The file's path.
    /// - Throws: ``RecommendError`` with code `ioError` when the file cannot be read, `malformedInput` as for
    ///   ``init(parsing:)``.
    public init(contentsOfFile path: String) throws(RecommendError) {
        let data = try RecommendError.reading(path)
        let result = data.withUnsafeBytes { raw in
            Result { () throws(RecommendError) in try Self.parse(raw.bindMemory(to: UInt8.self)) }
        }
        self = try result.get()
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(RecommendError) -> InteractionTable {
        var parser = InteractionParser()
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") {
                lineEnd += 1
            }
            lineNumber += 1
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == UInt8(ascii: "\r") {
                contentEnd -= 1
            }
            try parser.consume(UnsafeBufferPointer(rebasing: bytes[lineStart..<contentEnd]), line: lineNumber)
            lineStart = lineEnd + 1
        }
        return parser.builder.build()
    }
}

/// Line-by-line state of the interactions parser.
struct InteractionParser {
    private enum Delimiter {
        case tab, comma, spaces
    }

    private static let userNames: Set<String> = ["user", "user_id", "userid", "uid"]
    private static let itemNames: Set<String> = ["item", "item_id", "itemid", "iid", "movie_id", "movieid"]
    private static let ratingNames: Set<String> = ["rating", "score", "value", "weight"]
    private static let timestampNames: Set<String> = ["timestamp", "time", "ts"]

    var builder = InteractionTable.Builder()
    private var delimiter: Delimiter?
    private var userColumn = 0
    private var itemColumn = 1
    private var ratingColumn: Int? = 2
    private var timestampColumn: Int? = 3
    private var fields: [Range<Int>] = []

    mutating func consume(_ line: UnsafeBufferPointer<UInt8>, line number: Int) throws(RecommendError) {
        guard let first = line.firstIndex(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else {
            return
        }
        if line[first] == UInt8(ascii: "#") {
            return
        }
        if self.delimiter == nil {
            self.delimiter =
                line.contains(UInt8(ascii: "\t")) ? .tab : line.contains(UInt8(ascii: ",")) ? .comma : .spaces
            self.split(line)
            if self.readHeader(line) {
                return
            }
        } else {
            self.split(line)
        }
        try self.readRow(line, line: number)
    }

    private mutating func split(_ line: UnsafeBufferPointer<UInt8>) {
        self.fields.removeAll(keepingCapacity: true)
        let separator: UInt8 =
            switch self.delimiter {
            case .tab: UInt8(ascii: "\t")
            case .comma: UInt8(ascii: ",")
            case .spaces, nil: UInt8(ascii: " ")
            }
        var start = 0
        for index in 0...line.count where index == line.count || line[index] == separator {
            var lower = start
            var upper = index
            while lower < upper && (line[lower] == UInt8(ascii: " ") || line[lower] == UInt8(ascii: "\t")) {
                lower += 1
            }
            while upper > lower && (line[upper - 1] == UInt8(ascii: " ") || line[upper - 1] == UInt8(ascii: "\t")) {
                upper -= 1
            }
            if !(self.delimiter == .spaces && lower == upper) {
                self.fields.append(lower..<upper)
            }
            start = index + 1
        }
    }

    /// Reads the first line as a header if it is one; returns whether it was.
    private mutating func readHeader(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let names = self.fields.map { range -> String in
            let name = String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self).lowercased()
            return String(name.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }
        guard let user = names.firstIndex(where: Self.userNames.contains),
            let item = names.firstIndex(where: Self.itemNames.contains)
        else {
            return false
        }
        self.userColumn = user
        self.itemColumn = item
        self.ratingColumn = names.firstIndex(where: Self.ratingNames.contains)
        self.timestampColumn = names.firstIndex(where: Self.timestampNames.contains)
        return true
    }

    private mutating func readRow(_ line: UnsafeBufferPointer<UInt8>, line number: Int) throws(RecommendError) {
        let needed = max(self.userColumn, self.itemColumn) + 1
        guard self.fields.count >= needed else {
            throw .malformed(line: number, "expected at least \(needed) fields (user, item), found \(self.fields.count)")
        }
        let userRange = self.fields[self.userColumn]
        let itemRange = self.fields[self.itemColumn]
        guard !userRange.isEmpty else {
            throw .malformed(line: number, "empty user id")
        }
        guard !itemRange.isEmpty else {
            throw .malformed(line: number, "empty item id")
        }
        let rating = try self.number(at: self.ratingColumn, in: line, name: "rating", line: number)
        let timestamp = try self.number(at: self.timestampColumn, in: line, name: "timestamp", line: number)
        self.builder.append(
            user: String(decoding: UnsafeBufferPointer(rebasing: line[userRange]), as: UTF8.self),
            item: String(decoding: UnsafeBufferPointer(rebasing: line[itemRange]), as: UTF8.self),
            rating: rating,
            timestamp: timestamp,
            line: number
        )
    }

    private func number(
        at column: Int?,
        in line: UnsafeBufferPointer<UInt8>,
        name: String,
        line number: Int
    ) throws(RecommendError) -> Double? {
        guard let column, column < self.fields.count, !self.fields[column].isEmpty else {
            return nil
        }
        let field = UnsafeBufferPointer(rebasing: line[self.fields[column]])
        if let value = Self.parseUnsigned(field) {
            return value
        }
        let text = String(decoding: field, as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw .malformed(line: number, "\(name) '\(text)' is not a finite number")
        }
        return value
    }

    /// Fast path for plain decimal integers of up to 15 digits (exact in a Double).
    private static func parseUnsigned(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
        guard field.count <= 15 else {
            return nil
        }
        var value: Int64 = 0
        for byte in field {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                return nil
            }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return Double(value)
    }
}
