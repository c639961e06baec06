// Linux only (Debian is the target platform); the POSIX calls are written against Glibc.
import Glibc

/// POSIX file-system calls used by the artifact store, each turning `-1`/`errno` into a ``RegistryError`` that names
/// the operation and the path. `ENOSPC`/`EDQUOT` become `resourceExhausted`; everything else is `internal` (a
/// missing file the registry expected is its own bug or damage; callers that expect `ENOENT` check for it).
enum FileSystem {
    static func error(_ operation: String, _ path: String, errno code: Int32 = errno) -> RegistryError {
        let reason = String(cString: strerror(code))
        let message = "\(operation) \(path): \(reason)"
        switch code {
        case ENOSPC, EDQUOT: return .resourceExhausted(message)
        default: return .internal(message)
        }
    }

    /// Creates `path` (mode 0700) and any missing parents; returns `true` when the last component was created.
    @discardableResult
    static func makeDirectories(_ path: String) throws(RegistryError) -> Bool {
        if self.isDirectory(path) { return false }
        let parent = self.parent(of: path)
        if parent != path, !parent.isEmpty { try self.makeDirectories(parent) }
        if mkdir(path, 0o700) == 0 {
            // Make the new directory entry itself durable.
            try self.syncDirectory(parent.isEmpty ? "." : parent)
            return true
        }
        if errno == EEXIST, self.isDirectory(path) { return false }
        throw self.error("mkdir", path)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The size of a regular file, or `nil` if there is no regular file at `path`.
    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// `fsync` on a directory, so that entries created, renamed or removed in it survive a crash.
    static func syncDirectory(_ path: String) throws(RegistryError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw self.error("open directory", path) }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else { throw self.error("fsync directory", path) }
    }

    /// Atomically replaces `destination` with `source` (`rename(2)`).
    static func rename(_ source: String, to destination: String) throws(RegistryError) {
        let rc = Glibc.rename(source, destination)
        guard rc == 0 else { throw self.error("rename to \(destination) from", source) }
    }

    /// Removes a file; a missing file is not an error. Returns `true` when a file was removed.
    @discardableResult
    static func removeFile(_ path: String) throws(RegistryError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw self.error("unlink", path)
    }

    /// The names in a directory, without `.` and `..`; a missing directory has no entries.
    static func listDirectory(_ path: String) throws(RegistryError) -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw self.error("opendir", path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Writes `bytes` to a new file at `path` durably and atomically: a temporary sibling is written, fsynced and
    /// renamed over `path`, and the directory is fsynced.
    static func writeFileAtomically(_ path: String, bytes: [UInt8], mode: mode_t) throws(RegistryError) {
        let temporary = path + ".tmp"
        _ = try? self.removeFile(temporary)
        let file = try FileHandle.create(temporary, mode: mode)
        do throws(RegistryError) {
            try bytes.withBytes { (buffer) throws(RegistryError) in try file.write(buffer) }
            try file.sync()
            try file.close()
            try self.rename(temporary, to: path)
            try self.syncDirectory(self.parent(of: path))
        } catch {
            _ = try? self.removeFile(temporary)
            throw error
        }
    }

    /// Reads a whole small file.
    static func readFile(_ path: String) throws(RegistryError) -> [UInt8] {
        let file = try FileHandle.openForReading(path)
        var bytes: [UInt8] = []
        while true {
            let chunk = try file.read(upTo: 64 * 1024)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return bytes
    }
}
