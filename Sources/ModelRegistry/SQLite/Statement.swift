internal import CSQLite

/// Owns one prepared statement (`sqlite3_stmt *`), finalised exactly once in `deinit`.
///
/// Statements are cached by ``Database`` and reused: every use binds all parameters, steps, and ends with
/// ``reset()``, which also clears the bindings so no value outlives its query. Not thread-safe: the registry
/// serialises every use of a connection behind its mutex.
final class Statement {
    private let handle: OpaquePointer
    let sql: String

    /// Compiles `sql` with `sqlite3_prepare_v3` (`SQLITE_PREPARE_PERSISTENT`, since it is cached).
    init(connection: OpaquePointer, sql: String) throws(RegistryError) {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            // On failure sqlite3_prepare_v3 sets *ppStmt to NULL; finalize(NULL) is a harmless no-op.
            sqlite3_finalize(statement)
            throw SQLiteError.make(rc, connection: connection, context: "prepare \(sql)")
        }
        self.handle = statement
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(self.handle)
    }

    /// Whether the statement makes no direct change to the database (`sqlite3_stmt_readonly`).
    var isReadOnly: Bool { sqlite3_stmt_readonly(self.handle) != 0 }

    /// Binds `values` to parameters 1...n, after clearing old bindings.
    func bind(_ values: [SQLiteValue]) throws(RegistryError) {
        sqlite3_clear_bindings(self.handle)
        let expected = Int(sqlite3_bind_parameter_count(self.handle))
        guard expected == values.count else {
            throw .internal("statement expects \(expected) parameters, got \(values.count): \(self.sql)")
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(self.handle, index)
            case .integer(let integer):
                rc = sqlite3_bind_int64(self.handle, index, integer)
            case .real(let real):
                rc = sqlite3_bind_double(self.handle, index, real)
            case .text(let text):
                // Bound with an explicit byte count (an embedded NUL must not truncate the value), and
                // SQLITE_TRANSIENT so SQLite copies the bytes before the Swift string goes away.
                let bytes = Array(text.utf8)
                if bytes.isEmpty {
                    // A NULL pointer would bind SQL NULL; "" bridges to a valid empty C string for the call.
                    rc = sqlite3_bind_text64(self.handle, index, "", 0, CSQLite_TRANSIENT(), UInt8(SQLITE_UTF8))
                } else {
                    rc = bytes.withUnsafeBytes { buffer in
                        sqlite3_bind_text64(
                            self.handle,
                            index,
                            buffer.baseAddress?.assumingMemoryBound(to: CChar.self),
                            sqlite3_uint64(buffer.count),
                            CSQLite_TRANSIENT(),
                            UInt8(SQLITE_UTF8)
                        )
                    }
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { buffer in
                    sqlite3_bind_blob64(
                        self.handle,
                        index,
                        buffer.baseAddress,
                        sqlite3_uint64(buffer.count),
                        CSQLite_TRANSIENT()
                    )
                }
            }
            guard rc == SQLITE_OK else { throw self.error(rc, "bind parameter \(index)") }
        }
    }

    /// Runs one step: `true` when a row is available (read it with ``row()``), `false` when done.
    func step() throws(RegistryError) -> Bool {
        let rc = sqlite3_step(self.handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw self.error(rc, "step")
        }
    }

    /// Copies the current row's columns into Swift values.
    func row() -> Row {
        let count = sqlite3_column_count(self.handle)
        var values: [SQLiteValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(self.handle, column) {
            case SQLITE_INTEGER:
                values.append(.integer(sqlite3_column_int64(self.handle, column)))
            case SQLITE_FLOAT:
                values.append(.real(sqlite3_column_double(self.handle, column)))
            case SQLITE_TEXT:
                // column_text first, then column_bytes: the order SQLite documents for a stable byte count.
                let text = sqlite3_column_text(self.handle, column)
                let count = Int(sqlite3_column_bytes(self.handle, column))
                if let text, count > 0 {
                    values.append(.text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)))
                } else {
                    values.append(.text(""))
                }
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(self.handle, column))
                if let bytes = sqlite3_column_blob(self.handle, column), count > 0 {
                    values.append(.blob(Array(UnsafeRawBufferPointer(start: bytes, count: count))))
                } else {
                    values.append(.blob([]))
                }
            default:
                values.append(.null)
            }
        }
        return Row(values: values)
    }

    /// Resets the statement for its next use and drops its bindings. Errors of the last step were already reported
    /// by ``step()``, so the return code of `sqlite3_reset` is ignored here.
    func reset() {
        sqlite3_reset(self.handle)
        sqlite3_clear_bindings(self.handle)
    }

    private func error(_ rc: Int32, _ what: String) -> RegistryError {
        SQLiteError.make(rc, connection: sqlite3_db_handle(self.handle), context: "\(what) of \(self.sql)")
    }
}

/// Maps SQLite result codes to ``RegistryError`` in one place.
enum SQLiteError {
    static func make(_ rc: Int32, connection: OpaquePointer?, context: String) -> RegistryError {
        let detail: String
        if let connection {
            detail = String(cString: sqlite3_errmsg(connection))
        } else {
            detail = String(cString: sqlite3_errstr(rc))
        }
        let message = "sqlite: \(context): \(detail) (code \(rc))"
        switch rc & 0xFF {
        case SQLITE_FULL:
            return .resourceExhausted(message)
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return .dataLoss(message)
        case SQLITE_CONSTRAINT:
            // Callers check for duplicates with context first; a constraint failure that reaches here is a race or
            // a bug, and "already exists" is its most likely meaning.
            return .alreadyExists(message)
        default:
            return .internal(message)
        }
    }
}
