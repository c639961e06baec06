internal import CSQLite

/// One row a session saw change: its table, what happened to it, and its primary key's values (in column order).
struct ChangedRow: Sendable, Hashable {
    enum Operation: Sendable, Hashable {
        case insert, update, delete
    }

    var table: String
    var operation: Operation
    var primaryKey: [SQLiteValue]
}

/// Owns one SQLite session (`sqlite3_session *`, the session extension) recording every row change on a
/// connection's `main` database, deleted exactly once in `deinit`.
///
/// The registry records each write transaction with one: its changeset, read before `COMMIT`, names every row the
/// transaction inserted, updated or deleted, including those of foreign-key cascades. Tables without a declared
/// `PRIMARY KEY` are not recorded (SQLite's rule); the registry's schema gives every table one.
final class Session {
    private let handle: OpaquePointer

    /// Starts recording changes to every table of `connection`'s main database.
    init(connection: OpaquePointer) throws(RegistryError) {
        var session: OpaquePointer?
        let rc = sqlite3session_create(connection, "main", &session)
        guard rc == SQLITE_OK, let session else {
            throw SQLiteError.make(rc, connection: connection, context: "sqlite3session_create")
        }
        // NULL: every table, including those created later.
        let attached = sqlite3session_attach(session, nil)
        guard attached == SQLITE_OK else {
            sqlite3session_delete(session)
            throw SQLiteError.make(attached, connection: connection, context: "sqlite3session_attach")
        }
        self.handle = session
    }

    deinit {
        sqlite3session_delete(self.handle)
    }

    /// The rows changed since the session started, one entry per row (a row inserted then updated is one insert; a
    /// row inserted then deleted is not there at all).
    func changedRows() throws(RegistryError) -> [ChangedRow] {
        var size: Int32 = 0
        var buffer: UnsafeMutableRawPointer?
        let rc = sqlite3session_changeset(self.handle, &size, &buffer)
        // The changeset is allocated by SQLite and is ours to free with sqlite3_free.
        defer { sqlite3_free(buffer) }
        guard rc == SQLITE_OK else { throw .internal("sqlite3session_changeset failed (\(rc))") }
        guard size > 0, let buffer else { return [] }
        var iterator: OpaquePointer?
        let started = sqlite3changeset_start(&iterator, size, buffer)
        // finalize(NULL) is a harmless no-op, so the iterator has one owner whatever happens below.
        defer { sqlite3changeset_finalize(iterator) }
        guard started == SQLITE_OK, let iterator else { throw .internal("sqlite3changeset_start failed (\(started))") }
        var rows: [ChangedRow] = []
        while true {
            let step = sqlite3changeset_next(iterator)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw .internal("sqlite3changeset_next failed (\(step))") }
            rows.append(try Self.row(iterator))
        }
        return rows
    }

    private static func row(_ iterator: OpaquePointer) throws(RegistryError) -> ChangedRow {
        var tableName: UnsafePointer<CChar>?
        var columns: Int32 = 0
        var operation: Int32 = 0
        var indirect: Int32 = 0
        guard sqlite3changeset_op(iterator, &tableName, &columns, &operation, &indirect) == SQLITE_OK, let tableName
        else { throw .internal("sqlite3changeset_op failed") }
        var flags: UnsafeMutablePointer<UInt8>?
        var pkColumns: Int32 = 0
        guard sqlite3changeset_pk(iterator, &flags, &pkColumns) == SQLITE_OK, let flags else {
            throw .internal("sqlite3changeset_pk failed")
        }
        let kind: ChangedRow.Operation
        switch operation {
        case SQLITE_INSERT: kind = .insert
        case SQLITE_UPDATE: kind = .update
        case SQLITE_DELETE: kind = .delete
        default: throw .internal("unknown changeset operation \(operation)")
        }
        var key: [SQLiteValue] = []
        for column in 0..<pkColumns where flags[Int(column)] != 0 {
            var value: OpaquePointer?
            // An insert has only new values; an update and a delete carry the primary key in their old values.
            let rc =
                kind == .insert
                ? sqlite3changeset_new(iterator, column, &value) : sqlite3changeset_old(iterator, column, &value)
            guard rc == SQLITE_OK, let value else { throw .internal("cannot read a changed row's primary key (\(rc))") }
            key.append(Self.value(value))
        }
        return ChangedRow(table: String(cString: tableName), operation: kind, primaryKey: key)
    }

    private static func value(_ value: OpaquePointer) -> SQLiteValue {
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER: return .integer(sqlite3_value_int64(value))
        case SQLITE_FLOAT: return .real(sqlite3_value_double(value))
        case SQLITE_TEXT:
            let count = Int(sqlite3_value_bytes(value))
            guard let text = sqlite3_value_text(value), count > 0 else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_value_bytes(value))
            guard let bytes = sqlite3_value_blob(value), count > 0 else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}
