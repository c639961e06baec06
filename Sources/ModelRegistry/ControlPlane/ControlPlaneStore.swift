import Synchronization

/// The control plane's durable desired state: a small keyed store (`DATADIR/control-plane.sqlite`) for the
/// scheduler's deployments, drains and cordons, and the counters that must not go backwards across a restart (the
/// Mesh revision, replica serials).
///
/// Values are opaque text (the scheduler writes JSON); a batch of changes is one transaction, fsynced before
/// ``apply(_:)`` returns (`journal_mode=WAL`, `synchronous` as configured, `FULL` by default), so what a caller was
/// told is done survives `kill -9` and power loss. The file sits beside the registry's, under the data directory's
/// lock (open the ``ModelRegistry`` first).
///
/// ```swift
/// let store = try ControlPlaneStore.open(dataDirectory: "./data")
/// try store.apply([.init(namespace: "deployment", key: "movies@production", value: "{...}")])
/// let deployments = try store.load()["deployment"] ?? [:]
/// ```
public final class ControlPlaneStore: Sendable {
    /// One change: `value` nil deletes the key.
    public struct Change: Sendable, Hashable {
        /// A group of keys (`deployment`, `worker`, `counter`).
        public var namespace: String
        /// The key within its namespace.
        public var key: String
        /// The new value; nil deletes the key.
        public var value: String?

        /// Creates a change.
        public init(namespace: String, key: String, value: String?) {
            self.namespace = namespace
            self.key = key
            self.value = value
        }
    }

    private struct State {
        var database: Database?
    }

    /// The path of the SQLite file.
    public let path: String
    private let state: Mutex<State>

    private init(path: String, database: sending Database) {
        self.path = path
        self.state = Mutex(State(database: database))
    }

    /// Opens (creating if needed) `DATADIR/control-plane.sqlite`.
    ///
    /// - Throws: ``RegistryError`` when the file cannot be opened or set up.
    public static func open(
        dataDirectory: String, synchronous: ModelRegistry.Configuration.Synchronous = .full
    ) throws(RegistryError) -> ControlPlaneStore {
        guard !dataDirectory.isEmpty else { throw .invalidArgument("data directory path is empty") }
        let layout = DataDirectory(dataDirectory)
        try FileSystem.makeDirectories(layout.root)
        let path = layout.root + "/control-plane.sqlite"
        let database = try Database(path: path)
        let mode = try database.queryOne("PRAGMA journal_mode = WAL")?.string(0)
        guard mode?.lowercased() == "wal" else {
            throw .internal("cannot switch \(path) to WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        try database.executeScript("PRAGMA synchronous = \(synchronous.rawValue)")
        try database.executeScript("PRAGMA busy_timeout = 5000")
        try database.executeScript(
            """
            CREATE TABLE IF NOT EXISTS entries (
                namespace  TEXT NOT NULL,
                key        TEXT NOT NULL,
                value      TEXT NOT NULL,
                PRIMARY KEY (namespace, key)
            ) STRICT, WITHOUT ROWID;
            """
        )
        return ControlPlaneStore(path: path, database: database)
    }

    /// Every entry: namespace → key → value.
    ///
    /// - Throws: ``RegistryError`` `failedPrecondition` after ``close()``, or the SQLite error.
    public func load() throws(RegistryError) -> [String: [String: String]] {
        try withDatabase { (database) throws(RegistryError) -> [String: [String: String]] in
            var result: [String: [String: String]] = [:]
            for row in try database.query("SELECT namespace, key, value FROM entries") {
                result[row.string(0), default: [:]][row.string(1)] = row.string(2)
            }
            return result
        }
    }

    /// Applies `changes` in one transaction (all or none), durable when this returns.
    ///
    /// - Throws: ``RegistryError`` `failedPrecondition` after ``close()``, or the SQLite error (nothing applied).
    public func apply(_ changes: [Change]) throws(RegistryError) {
        guard !changes.isEmpty else { return }
        try withDatabase { (database) throws(RegistryError) in
            try database.transaction { () throws(RegistryError) in
                for change in changes {
                    if let value = change.value {
                        try database.execute(
                            "INSERT OR REPLACE INTO entries (namespace, key, value) VALUES (?, ?, ?)",
                            change.namespace, change.key, value
                        )
                    } else {
                        try database.execute(
                            "DELETE FROM entries WHERE namespace = ? AND key = ?", change.namespace, change.key
                        )
                    }
                }
            }
        }
    }

    /// Closes the file; later calls throw `failedPrecondition`. Safe to call more than once.
    public func close() {
        state.withLock { state in
            state.database?.close()
            state.database = nil
        }
    }

    private func withDatabase<T: Sendable>(_ body: (Database) throws(RegistryError) -> T) throws(RegistryError) -> T {
        try state.withLock { (state) throws(RegistryError) -> T in
            guard let database = state.database else { throw .failedPrecondition("the control-plane store is closed") }
            return try body(database)
        }
    }
}
