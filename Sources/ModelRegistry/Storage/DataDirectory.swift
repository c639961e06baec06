/// The files of one registry under its data directory:
///
/// ```
/// DATADIR/registry.sqlite            metadata (SQLite, WAL: also registry.sqlite-wal, -shm)
/// DATADIR/registry.lock              flock'ed while a registry has the directory open
/// DATADIR/admin.token                the bootstrap admin token (mode 0600)
/// DATADIR/tmp/upload-<random>        uploads in progress (deleted on open)
/// DATADIR/artifacts/sha256/ab/abcd…  artifacts, named by their SHA-256
/// ```
struct DataDirectory: Sendable {
    let root: String

    init(_ root: String) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    var databasePath: String { self.root + "/registry.sqlite" }
    var lockPath: String { self.root + "/registry.lock" }
    var adminTokenPath: String { self.root + "/admin.token" }
    var temporaryDirectory: String { self.root + "/tmp" }
    var artifactsDirectory: String { self.root + "/artifacts/sha256" }
}
