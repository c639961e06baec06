/// Content-addressed artifact files under `DATADIR/artifacts/sha256/`, plus the temporary files of uploads.
///
/// A file appears at its final path only through `rename(2)` of a complete, fsynced temporary file, followed by an
/// fsync of the directory; so a file at a final path is always complete. Whether it is *referenced* is the
/// database's business: a file without a version row is garbage, removed by ``ModelRegistry`` on open.
///
/// The store does not lock: ``ModelRegistry`` calls ``install(temporary:sha256:sizeBytes:)`` and ``remove(sha256:)``
/// only while holding its mutex, so deciding "is this file still referenced?" and acting on it is atomic.
struct ArtifactStore: Sendable {
    let directory: String
    let temporaryDirectory: String

    init(layout: DataDirectory) {
        self.directory = layout.artifactsDirectory
        self.temporaryDirectory = layout.temporaryDirectory
    }

    /// Creates the store's directories if needed.
    func prepare() throws(RegistryError) {
        try FileSystem.makeDirectories(self.directory)
        try FileSystem.makeDirectories(self.temporaryDirectory)
    }

    /// `artifacts/sha256/ab/abcdef…`: a two-character fan-out keeps directories small.
    func path(sha256: String) -> String {
        "\(self.directory)/\(sha256.prefix(2))/\(sha256)"
    }

    /// A fresh, unguessable temporary path `tmp/upload-<random>`.
    func newTemporaryPath() throws(RegistryError) -> String {
        "\(self.temporaryDirectory)/upload-\(try SecureRandom.hex(16))"
    }

    /// Moves a complete, fsynced temporary file to its content-addressed path.
    ///
    /// If a file of the same size is already there (identical content, since the name is its hash), the temporary
    /// file is removed instead and the existing one is shared.
    /// - Returns: `true` if a new file was created, `false` if an existing one is reused.
    func install(temporary: String, sha256: String, sizeBytes: Int64) throws(RegistryError) -> Bool {
        let fanOut = "\(self.directory)/\(sha256.prefix(2))"
        try FileSystem.makeDirectories(fanOut)
        let destination = self.path(sha256: sha256)
        if FileSystem.fileSize(destination) == sizeBytes {
            try FileSystem.removeFile(temporary)
            return false
        }
        try FileSystem.rename(temporary, to: destination)
        try FileSystem.syncDirectory(fanOut)
        return true
    }

    /// Deletes the artifact file for `sha256`, if present.
    func remove(sha256: String) throws(RegistryError) {
        let fanOut = "\(self.directory)/\(sha256.prefix(2))"
        if try FileSystem.removeFile(self.path(sha256: sha256)) {
            try FileSystem.syncDirectory(fanOut)
        }
    }

    /// Every file under the store: well-named artifacts (`ab/ab…` with a 64-hex name) by hash, anything else by path.
    func scan() throws(RegistryError) -> (artifacts: [String], strays: [String]) {
        var artifacts: [String] = []
        var strays: [String] = []
        for fanOut in try FileSystem.listDirectory(self.directory) {
            let fanOutPath = "\(self.directory)/\(fanOut)"
            guard FileSystem.isDirectory(fanOutPath) else {
                strays.append(fanOutPath)
                continue
            }
            for name in try FileSystem.listDirectory(fanOutPath) {
                if Hex.isLowercaseHex(name, count: 64), name.hasPrefix(fanOut), fanOut.utf8.count == 2 {
                    artifacts.append(name)
                } else {
                    strays.append("\(fanOutPath)/\(name)")
                }
            }
        }
        return (artifacts, strays)
    }

    /// Deletes every file in the temporary directory (uploads interrupted by a crash or a kill).
    /// - Returns: The removed paths.
    func removeTemporaryFiles() throws(RegistryError) -> [String] {
        var removed: [String] = []
        for name in try FileSystem.listDirectory(self.temporaryDirectory) {
            let path = "\(self.temporaryDirectory)/\(name)"
            if try FileSystem.removeFile(path) { removed.append(path) }
        }
        if !removed.isEmpty { try FileSystem.syncDirectory(self.temporaryDirectory) }
        return removed
    }
}
