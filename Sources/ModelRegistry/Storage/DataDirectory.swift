/// The files of one registry under its data directory:
///
/// ```
/// DATADIR/registry.sqlite            metadata (SQLite, WAL: also registry.sqlite-wal, -shm)
/// DATADIR/registry.lock              flock'ed while a registry has the directory open
/// DATADIR/admin.token                the bootstrap admin token (mode 0600)
/// DATADIR/replica-of                 the etcd prefix whose registry this one copies (control planes on etcd)
/// DATADIR/tmp/upload-<random>        uploads in progress (deleted on open)
/// DATADIR/artifacts/sha256/ab/abcd…  artifacts, named by their SHA-256
/// ```
///
/// With an artifact directory of its own (``ModelRegistry/Configuration/artifactDirectory``), artifacts live in
/// `ARTIFACTDIR/sha256/…` and uploads in progress in `ARTIFACTDIR/tmp/` (the same file system, so the final rename
/// works).
struct DataDirectory: Sendable {
    let root: String
    /// `ARTIFACTDIR`, if given.
    let artifactRoot: String?

    init(_ root: String, artifactRoot: String? = nil) {
        self.root = Self.trimmed(root)
        self.artifactRoot = artifactRoot.map(Self.trimmed)
    }

    private static func trimmed(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    var databasePath: String { self.root + "/registry.sqlite" }
    var lockPath: String { self.root + "/registry.lock" }
    var adminTokenPath: String { self.root + "/admin.token" }
    var replicaMarkerPath: String { self.root + "/replica-of" }
    var temporaryDirectory: String { self.artifactRoot.map { $0 + "/tmp" } ?? self.root + "/tmp" }
    var artifactsDirectory: String { (self.artifactRoot ?? self.root + "/artifacts") + "/sha256" }
}
