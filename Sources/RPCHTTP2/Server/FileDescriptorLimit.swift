import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open files. Servers raise the soft limit to the hard one at start, as Go's runtime
/// does: the soft default (often 1,024) is a compatibility relic for `select`, which nothing here uses, and it
/// caps the connections a server can hold long before memory does.
public enum FileDescriptorLimit {
    private static let raised = Mutex<(soft: UInt64, hard: UInt64)?>(nil)

    /// Raises the soft RLIMIT_NOFILE to the hard limit (once per process); returns the limits in force.
    @discardableResult
    public static func raiseSoftToHard() -> (soft: UInt64, hard: UInt64) {
        raised.withLock { raised in
            if let raised { return raised }
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
            if limit.rlim_cur < limit.rlim_max {
                var wanted = limit
                wanted.rlim_cur = limit.rlim_max
                if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) == 0 { limit = wanted }
            }
            let result = (soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
            raised = result
            return result
        }
    }

    /// Grows the process's table of file descriptors so that it holds `count` of them (the kernel never shrinks
    /// it); returns whether it could.
    ///
    /// Why: the kernel grows the table, by doubling, when a descriptor past its end is needed, and in a process with
    /// several threads each growth waits for an RCU grace period (`expand_files` calls `synchronize_rcu`): 10-25 ms
    /// during which the event loop that called `accept` stands still. Under a flood of connects that was a stall of
    /// 10-25 ms at 512, 1,024, ... 8,192 connections, seen by every call waiting on that loop. At start nobody waits.
    @discardableResult
    public static func presizeTable(toHold count: Int) -> Bool {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let last = CInt(clamping: count - 1)
        guard last > fd else { return true }
        // F_DUPFD takes the lowest free descriptor from `last` on: unlike dup2, it never replaces one in use.
        let high = fcntl(fd, F_DUPFD_CLOEXEC, last)
        guard high >= 0 else { return false }
        close(high)
        return true
    }
}

/// A few descriptors held open (on /dev/null) so that, when the process runs out, some can be given back at once:
/// the listener then still accepts, and the server makes room by closing its oldest idle connection.
final class FileDescriptorReserve: Sendable {
    private let held = Mutex<[CInt]>([])
    let size: Int

    init(size: Int) {
        self.size = size
        refill()
    }

    deinit {
        held.withLock { for fd in $0 { close(fd) } }
    }

    /// Descriptors held now.
    var count: Int { held.withLock { $0.count } }

    /// Closes every held descriptor (the process is out of them); returns how many were freed.
    @discardableResult
    func release() -> Int {
        held.withLock { held in
            for fd in held { close(fd) }
            defer { held.removeAll() }
            return held.count
        }
    }

    /// Opens descriptors until the reserve is full again or none can be had.
    func refill() {
        held.withLock { held in
            while held.count < size {
                let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return }
                held.append(fd)
            }
        }
    }
}
