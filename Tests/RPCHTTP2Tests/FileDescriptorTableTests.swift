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

    @Test("the table grows to hold the count asked for, and no descriptor in use is touched")
    func grows() throws {
        let before = try Self.tableSize()
        let open = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        #expect(open >= 0)
        defer { close(open) }
        let wanted = before * 2 + 1
        #expect(FileDescriptorLimit.presizeTable(toHold: wanted))
        #expect(try Self.tableSize() >= wanted)
        #expect(fcntl(open, F_GETFD) >= 0, "a descriptor in use is still open")
        // Asking for less than the table holds changes nothing.
        #expect(FileDescriptorLimit.presizeTable(toHold: 8))
        #expect(try Self.tableSize() >= wanted)
    }
}
