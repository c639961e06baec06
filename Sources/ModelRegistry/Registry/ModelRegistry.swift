public import Logging
import Synchronization

/// The model registry: models and their metadata, immutable numbered versions with content-addressed artifacts,
/// aliases with history, users, groups, tokens and per-model roles, stored durably under one data directory.
///
/// Open one registry per data directory and share it: it is `Sendable`, and every method may be called
/// concurrently from any task. Metadata operations are serialised on one SQLite connection behind a `Mutex`;
/// artifact bytes are written and read outside that lock (see ``VersionUpload`` and ``ArtifactReader``).
///
/// ```swift
/// let registry = try ModelRegistry.open(dataDirectory: "/var/lib/aimass")
/// let admin = try registry.authenticate(token: adminToken)
/// _ = try registry.createModel(Model(name: "movies"), by: admin)
/// let upload = try registry.beginUpload(model: "movies", header: header, by: admin)
/// try upload.append(bytes)
/// let version = try upload.finish()           // visible from here on
/// _ = try registry.setAlias(model: "movies", alias: "production", version: .number(version.number), by: admin)
/// ```
///
/// Every method that acts on behalf of a user takes `by principal:`, checks the principal's role, and throws
/// ``RegistryError`` (see ``RegistryError/Code`` for the meaning of each code).
public final class ModelRegistry: Sendable {
    /// The data directory this registry owns.
    public let dataDirectory: String
    /// The configuration it was opened with.
    public let configuration: Configuration
    /// What ``open(dataDirectory:configuration:logger:)`` found and repaired.
    public let recovery: RecoveryReport

    let layout: DataDirectory
    let store: ArtifactStore
    let logger: Logger
    /// Answers of authentication, authorization and version resolution; see ``AccessCache``.
    let accessCache: AccessCache
    /// How many times the database was entered (``withDatabase(_:)``): tests check that cache hits stay at zero.
    let databaseEntries = Atomic<Int>(0)
    /// When each token last authenticated a call, not yet written (see ``TokenUses``).
    let tokenUses = TokenUses()
    /// The request buckets of tokens with a quota.
    let tokenQuotas = TokenQuotas<Int64>()
    private let state: Mutex<State>

    /// The replicated tables of this schema (see ``RegistryReplication``).
    let replicatedTables: ReplicatedTables

    /// The mutable part: the connection and the data-directory lock, both released by ``close()``; the replication
    /// hook of a leader on etcd.
    struct State {
        var database: Database?
        var lock: FileLock?
        var replication: (any RegistryReplication)?
    }

    /// Opens (creating on first use) the registry stored under `dataDirectory`.
    ///
    /// On open the registry takes an exclusive lock on the directory, applies pending schema migrations, deletes
    /// the leftovers of interrupted uploads (temporary files, artifact files without a version row), and — on first
    /// use — creates the `admin` user and writes its token to `DATADIR/admin.token` (mode 0600). Re-opening keeps
    /// the same admin token. What was repaired is in ``recovery``.
    ///
    /// - Parameters:
    ///   - dataDirectory: Where to keep `registry.sqlite`, `artifacts/` and `tmp/`; created if missing.
    ///   - configuration: Limits and durability settings.
    ///   - logger: Where to report recovery actions and bootstrap; the registry never builds its own.
    /// - Throws: `failedPrecondition` if another registry holds the directory or the schema is newer than this
    ///   build; `dataLoss` if the database file is corrupt; `internal` on other I/O errors.
    public static func open(
        dataDirectory: String,
        configuration: Configuration = .defaults,
        logger: Logger = Logger(label: "aimass.registry", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(RegistryError) -> ModelRegistry {
        try self.open(
            dataDirectory: dataDirectory,
            configuration: configuration,
            logger: logger,
            schemaVersion: Migrations.latestVersion
        )
    }

    /// ``open(dataDirectory:configuration:logger:)`` migrating only up to `schemaVersion`: tests use it to build a
    /// data directory as an older build left it (the API then only works where that schema suffices).
    static func open(
        dataDirectory: String,
        configuration: Configuration = .defaults,
        logger: Logger = Logger(label: "aimass.registry", factory: { _ in SwiftLogNoOpLogHandler() }),
        schemaVersion: Int
    ) throws(RegistryError) -> ModelRegistry {
        guard !dataDirectory.isEmpty else { throw .invalidArgument("data directory path is empty") }
        guard configuration.maxArtifactBytes >= 0 else {
            throw .invalidArgument("maxArtifactBytes must not be negative")
        }
        let layout = DataDirectory(dataDirectory, artifactRoot: configuration.artifactDirectory)
        try FileSystem.makeDirectories(layout.root)
        let lock = try FileLock(path: layout.lockPath)
        let store = ArtifactStore(layout: layout)
        try store.prepare()
        let database = try Database(path: layout.databasePath)
        try self.configure(database, configuration: configuration)
        var report = RecoveryReport()
        report.appliedMigrations = try Migrations.migrate(database, to: schemaVersion)
        if configuration.sweepsArtifacts {
            try Recovery.run(database: database, store: store, logger: logger, report: &report)
        }
        let replicatedTables = try ReplicatedTables.load(database)
        if configuration.createAdminUser {
            report.createdAdmin = try Bootstrap.createAdminIfNeeded(database, layout: layout, logger: logger)
        }
        return ModelRegistry(
            layout: layout,
            configuration: configuration,
            store: store,
            database: database,
            lock: lock,
            recovery: report,
            replicatedTables: replicatedTables,
            logger: logger
        )
    }

    private init(
        layout: DataDirectory,
        configuration: Configuration,
        store: ArtifactStore,
        database: sending Database,
        lock: sending FileLock,
        recovery: RecoveryReport,
        replicatedTables: ReplicatedTables,
        logger: Logger
    ) {
        self.replicatedTables = replicatedTables
        self.dataDirectory = layout.root
        self.layout = layout
        self.configuration = configuration
        self.store = store
        self.recovery = recovery
        self.logger = logger
        self.accessCache = AccessCache(configuration.accessCaching)
        self.state = Mutex(State(database: database, lock: lock))
    }

    /// Connection settings, applied on every open.
    ///
    /// - `journal_mode=WAL`: readers never block the writer, and a commit is one append to the WAL.
    /// - `synchronous` (``Configuration/Synchronous``): `FULL` by default, so a commit is fsynced before it returns
    ///   and an acknowledged write survives power loss; `NORMAL` survives a process kill but may lose the last
    ///   commits on power loss.
    /// - `foreign_keys=ON`: deleting a model cascades to its versions, aliases, history and permissions.
    /// - `busy_timeout`: waits for a lock instead of failing at once (only another process could hold one).
    private static func configure(_ database: Database, configuration: Configuration) throws(RegistryError) {
        let mode = try database.queryOne("PRAGMA journal_mode = WAL")?.string(0)
        guard mode?.lowercased() == "wal" else {
            throw .internal("cannot switch \(database.path) to WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        try database.executeScript("PRAGMA synchronous = \(configuration.synchronous.rawValue)")
        try database.executeScript("PRAGMA foreign_keys = ON")
        try database.executeScript("PRAGMA busy_timeout = \(max(0, configuration.busyTimeoutMilliseconds))")
    }

    /// The path of the bootstrap admin token file, `DATADIR/admin.token`.
    public var adminTokenPath: String { self.layout.adminTokenPath }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool {
        self.state.withLock { $0.database == nil }
    }

    /// Closes the database and releases the data-directory lock. Later calls throw `failedPrecondition`; uploads
    /// in progress fail at ``VersionUpload/finish()``. Readers already opened keep working (they hold their own
    /// file). Safe to call more than once; also done when the registry is deallocated.
    public func close() {
        // Best effort: a registry closed after an I/O error still closes.
        try? self.persistTokenUses()
        self.state.withLock { state in
            self.accessCache.close()
            state.database?.close()
            state.database = nil
            state.lock = nil
        }
    }

    /// Replicates every later write transaction through `replication` before it commits (nil: stop). The
    /// high-availability control plane sets it once it leads, after its replica has caught up with etcd.
    public func setReplication(_ replication: (any RegistryReplication)?) {
        self.state.withLock { $0.replication = replication }
    }

    /// Runs `body` with the connection while holding the registry's mutex.
    ///
    /// If `body` changed any row (SQLite's total change count moved, whether or not it then threw or rolled
    /// back), the access cache is invalidated before the mutex is released: this is the one place every write
    /// passes through, so no write path can forget to.
    func withDatabase<T: Sendable>(_ body: (Database) throws(RegistryError) -> T) throws(RegistryError) -> T {
        try self.withDatabase(invalidatingCaches: true, body)
    }

    /// ``withDatabase(_:)`` for the writes no cached answer depends on (when a token was last used, the audit log):
    /// they leave the access cache as it is, so that recording them does not cost every caller a cache miss.
    ///
    /// With a replication hook (``setReplication(_:)``) every write transaction of `body` is replicated before it
    /// commits, unless `replicated` is false (a control plane's own bookkeeping: when its tokens were last used).
    func withDatabase<T: Sendable>(
        invalidatingCaches: Bool, replicated: Bool = true, _ body: (Database) throws(RegistryError) -> T
    ) throws(RegistryError) -> T {
        self.databaseEntries.add(1, ordering: .relaxed)
        return try self.state.withLock { (state) throws(RegistryError) -> T in
            guard let database = state.database else {
                throw .failedPrecondition("the registry at \(self.dataDirectory) is closed")
            }
            let changesBefore = database.totalChanges
            database.replication = replicated ? state.replication.map { ChangeRecorder(hook: $0, tables: self.replicatedTables) } : nil
            defer {
                database.replication = nil
                if invalidatingCaches, database.totalChanges != changesBefore { self.accessCache.invalidate() }
            }
            return try body(database)
        }
    }
}
