// A thin, hand-written binding to the system libsqlite3 rather than a package such as GRDB or SQLiteNIO:
// - no extra dependency: Debian's libsqlite3 is already on every machine we run on;
// - full control of durability: WAL mode, `synchronous`, checkpoints and transactions are set here, explicitly;
// - the part of the C API we need is small (open, prepare, bind, step, column, reset, finalize, close).
internal import CSQLite

/// Owns one SQLite connection (`sqlite3 *`) and a cache of its prepared statements.
///
/// The connection is opened with `SQLITE_OPEN_NOMUTEX`: it is not thread-safe, and ``ModelRegistry`` serialises
/// every use behind its `Mutex`. ``close()`` finalises the cached statements and then closes the connection; it runs
/// at most once (also from `deinit`).
final class Database {
    private var handle: OpaquePointer?
    private var statements: [String: Statement] = [:]
    let path: String
    /// Set while a replicated registry call runs: every write transaction then hands its row changes to the
    /// recorder's hook before it commits (see ``transaction(_:)``).
    var replication: ChangeRecorder?

    /// Opens (creating if needed) the database file at `path` with `sqlite3_open_v2`.
    init(path: String) throws(RegistryError) {
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &connection, flags, nil)
        guard rc == SQLITE_OK, let connection else {
            let error = SQLiteError.make(rc, connection: connection, context: "open \(path)")
            // sqlite3_open_v2 may hand back a handle even on failure; it must still be closed.
            sqlite3_close_v2(connection)
            throw error
        }
        self.handle = connection
        self.path = path
    }

    deinit {
        self.close()
    }

    /// Finalises every cached statement, then closes the connection. Safe to call more than once.
    func close() {
        self.statements.removeAll()
        if let handle = self.handle {
            // close_v2: should a statement still be alive somewhere, the connection closes when it is finalised.
            sqlite3_close_v2(handle)
            self.handle = nil
        }
    }

    private func connection() throws(RegistryError) -> OpaquePointer {
        guard let handle = self.handle else { throw .failedPrecondition("the registry database is closed") }
        return handle
    }

    private func statement(_ sql: String) throws(RegistryError) -> Statement {
        if let cached = self.statements[sql] { return cached }
        let statement = try Statement(connection: try self.connection(), sql: sql)
        self.statements[sql] = statement
        return statement
    }

    /// Runs one or more statements without parameters or results (`sqlite3_exec`), e.g. DDL and pragmas.
    func executeScript(_ sql: String) throws(RegistryError) {
        let connection = try self.connection()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(connection, sql, nil, nil, &errorMessage)
        // The message is allocated by sqlite3_malloc and is ours to free with sqlite3_free.
        defer { sqlite3_free(errorMessage) }
        guard rc == SQLITE_OK else {
            throw SQLiteError.make(rc, connection: connection, context: "exec \(sql.prefix(80))")
        }
    }

    /// Runs a statement with parameters and ignores any result rows.
    func execute(_ sql: String, _ bindings: any SQLiteBindable...) throws(RegistryError) {
        _ = try self.run(sql, bindings.map(\.sqliteValue), limit: 0)
    }

    /// Runs a query and returns all its rows.
    func query(_ sql: String, _ bindings: any SQLiteBindable...) throws(RegistryError) -> [Row] {
        try self.run(sql, bindings.map(\.sqliteValue), limit: Int.max)
    }

    /// Runs a query with an array of bindings (for queries built from optional filters).
    func query(_ sql: String, bindings: [SQLiteValue]) throws(RegistryError) -> [Row] {
        try self.run(sql, bindings, limit: Int.max)
    }

    /// Runs a query and returns its first row, or `nil`.
    func queryOne(_ sql: String, _ bindings: any SQLiteBindable...) throws(RegistryError) -> Row? {
        try self.run(sql, bindings.map(\.sqliteValue), limit: 1).first
    }

    private func run(_ sql: String, _ bindings: [SQLiteValue], limit: Int) throws(RegistryError) -> [Row] {
        let statement = try self.statement(sql)
        // A write outside an explicit transaction would commit on its own, unreplicated: give it one.
        if self.replication != nil, !statement.isReadOnly, let handle = self.handle, sqlite3_get_autocommit(handle) != 0 {
            return try self.transaction { () throws(RegistryError) -> [Row] in try self.run(sql, bindings, limit: limit) }
        }
        defer { statement.reset() }
        try statement.bind(bindings)
        var rows: [Row] = []
        while try statement.step() {
            if rows.count < limit { rows.append(statement.row()) }
        }
        return rows
    }

    /// The rowid of the last `INSERT` on this connection (`sqlite3_last_insert_rowid`).
    var lastInsertRowID: Int64 {
        guard let handle = self.handle else { return 0 }
        return sqlite3_last_insert_rowid(handle)
    }

    /// The number of rows changed by the last `INSERT`, `UPDATE` or `DELETE` (`sqlite3_changes64`).
    var changes: Int64 {
        guard let handle = self.handle else { return 0 }
        return sqlite3_changes64(handle)
    }

    /// Rows changed by every `INSERT`, `UPDATE` or `DELETE` since the connection opened, including those of
    /// triggers and foreign-key cascades and those later rolled back (`sqlite3_total_changes64`).
    var totalChanges: Int64 {
        guard let handle = self.handle else { return 0 }
        return sqlite3_total_changes64(handle)
    }

    /// Runs `body` in one transaction: `BEGIN IMMEDIATE` (takes the write lock up front, so a transaction never
    /// fails half-way with `SQLITE_BUSY` on lock upgrade), `COMMIT` on success, `ROLLBACK` on any error.
    ///
    /// With a ``replication`` recorder, a session records the transaction's rows and the recorder's hook gets them
    /// before `COMMIT`; if the hook throws, the transaction rolls back.
    func transaction<T>(_ body: () throws(RegistryError) -> T) throws(RegistryError) -> T {
        try self.executeScript("BEGIN IMMEDIATE")
        do throws(RegistryError) {
            let session = try self.replication.map { _ throws(RegistryError) in try Session(connection: try self.connection()) }
            let result = try body()
            if let session, let recorder = self.replication {
                try recorder.replicate(try session.changedRows(), from: self)
            }
            try self.executeScript("COMMIT")
            return result
        } catch {
            // After a failed COMMIT SQLite may already have rolled back; a second rollback error is not interesting.
            try? self.executeScript("ROLLBACK")
            throw error
        }
    }
}
