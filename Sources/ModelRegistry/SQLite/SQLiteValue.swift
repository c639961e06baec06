/// One SQLite value, as bound to a statement parameter or read from a result column.
enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value that can be bound to a statement parameter.
protocol SQLiteBindable {
    var sqliteValue: SQLiteValue { get }
}

extension SQLiteValue: SQLiteBindable {
    var sqliteValue: SQLiteValue { self }
}

extension String: SQLiteBindable {
    var sqliteValue: SQLiteValue { .text(self) }
}

extension Int64: SQLiteBindable {
    var sqliteValue: SQLiteValue { .integer(self) }
}

extension Int: SQLiteBindable {
    var sqliteValue: SQLiteValue { .integer(Int64(self)) }
}

extension Double: SQLiteBindable {
    var sqliteValue: SQLiteValue { .real(self) }
}

extension Bool: SQLiteBindable {
    var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    var sqliteValue: SQLiteValue { self?.sqliteValue ?? .null }
}

/// One result row, copied out of the statement so it outlives the next `sqlite3_step`.
///
/// The accessors return a neutral value (0, "", nil) for a column of another type. The tables are `STRICT`, so that
/// only happens on a programming error in a query, never because of user input.
struct Row: Sendable {
    var values: [SQLiteValue]

    func int64(_ index: Int) -> Int64 {
        if case .integer(let value) = self.values[index] { return value }
        return 0
    }

    func int(_ index: Int) -> Int { Int(self.int64(index)) }

    func optionalInt64(_ index: Int) -> Int64? {
        if case .integer(let value) = self.values[index] { return value }
        return nil
    }

    func string(_ index: Int) -> String {
        if case .text(let value) = self.values[index] { return value }
        return ""
    }

    func optionalString(_ index: Int) -> String? {
        if case .text(let value) = self.values[index] { return value }
        return nil
    }

    func bool(_ index: Int) -> Bool { self.int64(index) != 0 }

    /// A REAL column (an INTEGER one is widened, as SQLite stores whole-valued reals as integers in some cases).
    func double(_ index: Int) -> Double {
        switch self.values[index] {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: 0
        }
    }
}
