import Synchronization

/// User feedback (views, clicks, purchases, ratings) for the models of a data directory, in a SQLite file of its
/// own (`DATADIR/feedback.sqlite`): appends arrive in bulk and must not hold the registry's mutex, which every cache
/// miss of an inference call takes.
///
/// Recording is idempotent: an event is keyed by its model and client-chosen id, and recording it again counts it as
/// a duplicate. A batch is one transaction, fsynced before ``record(_:)`` returns (`synchronous=FULL` by default).
public final class FeedbackStore: Sendable {
    /// What the user did.
    public enum Kind: Int, Sendable, Hashable, CaseIterable {
        case view = 1
        case click = 2
        case purchase = 3
        case rating = 4
    }

    /// One interaction.
    public struct Event: Sendable, Hashable {
        public var eventID: String
        public var model: String
        public var userID: String
        public var itemID: String
        public var kind: Kind
        /// The rating for ``Kind/rating``, a weight otherwise.
        public var value: Double
        /// When it happened, milliseconds since 1970.
        public var atMs: Int64
        /// The version that served the recommendation; 0 = unknown.
        public var servedVersion: UInt32

        public init(
            eventID: String, model: String, userID: String, itemID: String, kind: Kind, value: Double, atMs: Int64,
            servedVersion: UInt32
        ) {
            self.eventID = eventID
            self.model = model
            self.userID = userID
            self.itemID = itemID
            self.kind = kind
            self.value = value
            self.atMs = atMs
            self.servedVersion = servedVersion
        }
    }

    /// A recorded event with its position in the order of recording.
    public struct Recorded: Sendable, Hashable {
        public var sequence: Int64
        public var event: Event
        public var recordedAtMs: Int64
    }

    /// The path of the SQLite file.
    public let path: String
    private let database: Mutex<Database?>

    private init(path: String, database: sending Database) {
        self.path = path
        self.database = Mutex(database)
    }

    /// Opens (creating if needed) `DATADIR/feedback.sqlite`. Open the ``ModelRegistry`` first: its lock on the data
    /// directory keeps other processes out of this file too.
    public static func open(
        dataDirectory: String, synchronous: ModelRegistry.Configuration.Synchronous = .full
    ) throws(RegistryError) -> FeedbackStore {
        let path = dataDirectory + "/feedback.sqlite"
        let database = try Database(path: path)
        let mode = try database.queryOne("PRAGMA journal_mode = WAL")?.string(0)
        guard mode?.lowercased() == "wal" else {
            throw .internal("cannot switch \(path) to WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        try database.executeScript(
            """
            PRAGMA synchronous = \(synchronous.rawValue);
            CREATE TABLE IF NOT EXISTS feedback (
                sequence        INTEGER PRIMARY KEY,
                model           TEXT    NOT NULL,
                event_id        TEXT    NOT NULL,
                user_id         TEXT    NOT NULL,
                item_id         TEXT    NOT NULL,
                kind            INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 4),
                value           REAL    NOT NULL,
                at              INTEGER NOT NULL,
                served_version  INTEGER NOT NULL,
                recorded_at     INTEGER NOT NULL,
                UNIQUE (model, event_id)
            ) STRICT;
            """)
        return FeedbackStore(path: path, database: database)
    }

    /// Closes the file; later calls fail with `failedPrecondition`.
    public func close() {
        database.withLock { database in
            database?.close()
            database = nil
        }
    }

    /// Stores `events` in one transaction.
    /// - Returns: How many were stored, and how many were already there (same model and event id).
    public func record(_ events: [Event]) throws(RegistryError) -> (recorded: Int, duplicates: Int) {
        let now = Timestamp.now()
        return try withDatabase { (database) throws(RegistryError) -> (recorded: Int, duplicates: Int) in
            try database.transaction { () throws(RegistryError) -> (recorded: Int, duplicates: Int) in
                var recorded = 0
                for event in events {
                    try database.execute(
                        """
                        INSERT OR IGNORE INTO feedback
                            (model, event_id, user_id, item_id, kind, value, at, served_version, recorded_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                        event.model, event.eventID, event.userID, event.itemID, event.kind.rawValue, event.value,
                        event.atMs == 0 ? now : event.atMs, Int64(event.servedVersion), now)
                    recorded += Int(database.changes)
                }
                return (recorded, events.count - recorded)
            }
        }
    }

    /// A model's events recorded after `afterSequence`, in order, at most `limit`.
    public func events(model: String, afterSequence: Int64 = 0, limit: Int = 1000) throws(RegistryError) -> [Recorded] {
        try withDatabase { (database) throws(RegistryError) -> [Recorded] in
            try database.query(
                """
                SELECT sequence, event_id, user_id, item_id, kind, value, at, served_version, recorded_at
                FROM feedback WHERE model = ? AND sequence > ? ORDER BY sequence LIMIT ?
                """,
                model, afterSequence, Int64(limit)
            ).map { (row) throws(RegistryError) -> Recorded in
                guard let kind = Kind(rawValue: row.int(4)) else {
                    throw .dataLoss("feedback row \(row.int64(0)) has kind \(row.int64(4))")
                }
                return Recorded(
                    sequence: row.int64(0),
                    event: Event(
                        eventID: row.string(1), model: model, userID: row.string(2), itemID: row.string(3), kind: kind,
                        value: row.double(5), atMs: row.int64(6), servedVersion: UInt32(clamping: row.int64(7))),
                    recordedAtMs: row.int64(8))
            }
        }
    }

    private func withDatabase<T: Sendable>(
        _ body: (Database) throws(RegistryError) -> T
    ) throws(RegistryError) -> T {
        try database.withLock { (database) throws(RegistryError) -> T in
            guard let database else { throw .failedPrecondition("the feedback store at \(path) is closed") }
            return try body(database)
        }
    }
}
