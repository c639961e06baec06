// Linux only (Debian is the target platform); the POSIX calls are written against Glibc.
import Glibc

/// Owns one file descriptor; it is closed exactly once, by ``close()`` or else by `deinit`.
///
/// Not thread-safe on its own: its owners (``VersionUpload``, ``ArtifactReader``) keep it inside a `Mutex`.
final class FileHandle {
    private var descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        if self.descriptor >= 0 { _ = Glibc.close(self.descriptor) }
    }

    /// Creates a new file that must not exist yet (`O_CREAT | O_EXCL`), open for writing.
    static func create(_ path: String, mode: mode_t = 0o600) throws(RegistryError) -> FileHandle {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileSystem.error("create", path) }
        return FileHandle(descriptor: fd, path: path)
    }

    /// Opens an existing file for reading; `notFound` if there is none.
    static func openForReading(_ path: String) throws(RegistryError) -> FileHandle {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .notFound("no file at \(path)") }
            throw FileSystem.error("open", path)
        }
        return FileHandle(descriptor: fd, path: path)
    }

    private func fd() throws(RegistryError) -> Int32 {
        guard self.descriptor >= 0 else { throw .internal("file \(self.path) is already closed") }
        return self.descriptor
    }

    /// Writes every byte of `buffer`, retrying short writes and `EINTR`.
    func write(_ buffer: UnsafeRawBufferPointer) throws(RegistryError) {
        let fd = try self.fd()
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = Glibc.write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystem.error("write", self.path)
            }
            remaining -= written
            base += written
        }
    }

    /// Reads up to `maxBytes`; an empty result means end of file.
    func read(upTo maxBytes: Int) throws(RegistryError) -> [UInt8] {
        let fd = try self.fd()
        let capacity = max(1, maxBytes)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, capacity)
                if n < 0, errno == EINTR { continue }
                if n < 0 {
                    failure = errno
                    count = 0
                } else {
                    count = n
                }
                return
            }
        }
        if failure != 0 { throw FileSystem.error("read", self.path, errno: failure) }
        return bytes
    }

    /// Flushes the file's data and metadata to stable storage (`fsync`).
    func sync() throws(RegistryError) {
        let fd = try self.fd()
        guard fsync(fd) == 0 else { throw FileSystem.error("fsync", self.path) }
    }

    /// Closes the descriptor. An error from `close(2)` after a write is reported, since it can mean lost data.
    func close() throws(RegistryError) {
        guard self.descriptor >= 0 else { return }
        let fd = self.descriptor
        self.descriptor = -1
        guard Glibc.close(fd) == 0 else { throw FileSystem.error("close", self.path) }
    }
}

/// An exclusive advisory lock (`flock`) on a file, held for the lifetime of the object, so two registries never
/// share one data directory (the second would delete the first one's in-progress uploads as garbage).
final class FileLock {
    private let handle: Int32
    let path: String

    init(path: String) throws(RegistryError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystem.error("open lock file", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            _ = Glibc.close(fd)
            if code == EWOULDBLOCK {
                throw .failedPrecondition("data directory is in use by another registry (lock \(path) is held)")
            }
            throw FileSystem.error("flock", path, errno: code)
        }
        self.handle = fd
        self.path = path
    }

    deinit {
        // Unlock explicitly before closing: the lock belongs to the open file description, and a child process
        // being spawned at this moment (between its fork and its exec, which closes O_CLOEXEC descriptors) holds
        // a copy of it; closing ours alone would leave the directory locked until that child execs.
        _ = flock(self.handle, LOCK_UN)
        _ = Glibc.close(self.handle)
    }
}
