internal import Logging

/// What ``ModelRegistry/open(dataDirectory:configuration:logger:)`` found and repaired.
public struct RecoveryReport: Sendable, Hashable {
    /// Schema migrations applied by this open (empty when the schema was current).
    public var appliedMigrations: [Int] = []
    /// Temporary upload files deleted (uploads interrupted by a crash or kill).
    public var removedTemporaryFiles: [String] = []
    /// SHA-256 of artifact files deleted because no version references them (a crash between storing the file
    /// and committing its version row, or between deleting a model and deleting its files).
    public var removedOrphanArtifacts: [String] = []
    /// Unexpected files under `artifacts/sha256/` that were deleted.
    public var removedStrayFiles: [String] = []
    /// SHA-256 of artifacts that versions reference but whose files are missing or have the wrong size: real data
    /// loss (disk failure or manual deletion); downloads of those versions fail with `dataLoss`.
    public var damagedArtifacts: [String] = []
    /// Whether this open created the `admin` user and its token file.
    public var createdAdmin = false

    /// An empty report.
    public init() {}
}

/// Crash recovery, run once on open before the registry is shared.
///
/// The write protocol makes this enough: an artifact file reaches its final path before its version row commits,
/// and a model's rows are deleted before its files. So after a crash the only possible garbage is temporary files
/// and artifact files without a row; a version row always has its file.
enum Recovery {
    static func run(
        database: Database,
        store: ArtifactStore,
        logger: Logger,
        report: inout RecoveryReport
    ) throws(RegistryError) {
        report.removedTemporaryFiles = try store.removeTemporaryFiles()
        for path in report.removedTemporaryFiles {
            logger.notice("removed interrupted upload", metadata: ["path": "\(path)"])
        }

        var referenced: [String: Int64] = [:]
        for row in try database.query("SELECT DISTINCT sha256, size_bytes FROM versions") {
            referenced[row.string(0)] = row.int64(1)
        }

        let (artifacts, strays) = try store.scan()
        for sha256 in artifacts where referenced[sha256] == nil {
            try store.remove(sha256: sha256)
            report.removedOrphanArtifacts.append(sha256)
            logger.notice("removed unreferenced artifact", metadata: ["sha256": "\(sha256)"])
        }
        for path in strays {
            // Only regular files: a stray directory is left for a person to look at.
            if FileSystem.fileSize(path) != nil, try FileSystem.removeFile(path) {
                report.removedStrayFiles.append(path)
                logger.notice("removed stray file in artifact store", metadata: ["path": "\(path)"])
            }
        }

        for (sha256, size) in referenced.sorted(by: { $0.key < $1.key }) {
            let actual = FileSystem.fileSize(store.path(sha256: sha256))
            if actual != size {
                report.damagedArtifacts.append(sha256)
                logger.error(
                    "artifact referenced by a version is missing or has the wrong size",
                    metadata: ["sha256": "\(sha256)", "expected": "\(size)", "actual": "\(actual.map(String.init) ?? "missing")"]
                )
            }
        }
    }
}

/// First-open set-up: the `admin` user and its token file.
enum Bootstrap {
    static let adminName = "admin"

    /// Creates the admin user and `DATADIR/admin.token` if the registry has no users yet.
    ///
    /// The token file is written (atomically, fsynced, mode 0600) *before* the user row commits: a crash in between
    /// leaves no users, so the next open simply bootstraps again with a new token.
    /// - Returns: Whether the admin was created.
    static func createAdminIfNeeded(
        _ database: Database,
        layout: DataDirectory,
        logger: Logger
    ) throws(RegistryError) -> Bool {
        let users = try database.queryOne("SELECT COUNT(*) FROM users")?.int(0) ?? 0
        guard users == 0 else {
            if !FileSystem.exists(layout.adminTokenPath) {
                logger.debug("no admin.token file; create tokens with an admin's credentials")
            }
            return false
        }
        let token = try Tokens.generate()
        let hash = try Tokens.hash(token)
        try FileSystem.writeFileAtomically(layout.adminTokenPath, bytes: Array((token + "\n").utf8), mode: 0o600)
        let now = Timestamp.now()
        try database.transaction { () throws(RegistryError) in
            try database.execute(
                "INSERT INTO users (name, is_admin, created_at) VALUES (?, 1, ?)",
                self.adminName,
                now
            )
            let userID = database.lastInsertRowID
            try database.execute(
                "INSERT INTO tokens (user_id, hash, label, created_at) VALUES (?, ?, 'bootstrap', ?)",
                userID,
                hash,
                now
            )
        }
        logger.notice("created admin user", metadata: ["token_file": "\(layout.adminTokenPath)"])
        return true
    }
}
