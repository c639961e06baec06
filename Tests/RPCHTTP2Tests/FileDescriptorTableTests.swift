import Foundation
import Testing

@testable import RPCHTTP2

#if canImport(Glibc)
import Glibc
#endif

@Suite("FileDescriptorLimit.presizeTable")
struct FileDescriptorTableTests {
    /// The size of this process's descriptor table (`FDSize` in /proc/self/status).
    static func tableSize() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("FDSize:") })
        return try #require(Int(line.dropFirst("FDSize:".count).trimmingCharacters(in: .whitespaces)))
    }

    /// The soft limit on open files: no descriptor can be had at or past it.
    static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Int(clamping: limit.rlim_cur)
    }

    @Test("the table grows to hold the count asked for, and no descriptor in use is touched")
    func grows() throws {
        // Other tests of this process may have grown the table already (every RPCServer start does): ask for one
        // more than it holds, within the open-file limit.
        // (tests/python/test_fd_limits.py checks a fresh server process, whose table nothing else has grown.)
        let before = try Self.tableSize()
        let wanted = max(min(before + 1, Self.openFileLimit()), 1)
        let open = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        #expect(open >= 0)
        defer { close(open) }
        #expect(FileDescriptorLimit.presizeTable(toHold: wanted))
        #expect(try Self.tableSize() >= wanted)
        #expect(fcntl(open, F_GETFD) >= 0, "a descriptor in use is still open")
        // Asking for less than the table holds changes nothing.
        #expect(FileDescriptorLimit.presizeTable(toHold: 8))
        #expect(try Self.tableSize() >= wanted)
    }

    @Test("past the open-file limit it says it could not")
    func pastTheLimit() {
        #expect(!FileDescriptorLimit.presizeTable(toHold: Self.openFileLimit() + 1))
    }
}
