import Foundation

/// The cores this process may run on: its CPU affinity on Linux (`taskset`, a container's cpuset: the
/// `Cpus_allowed` mask of `/proc/self/status`, as Glibc's module does not export `sched_getaffinity`), else every
/// active core.
///
/// Why not `System.coreCount` or `ProcessInfo.activeProcessorCount`: both count the machine's cores, so a server
/// pinned to one core of two ran two event loops that took turns on it (measured: a Recommend call cost 60 µs of
/// CPU with two loops on one core).
public enum UsableCores {
    /// Read once: the affinity of a running process seldom changes, and servers size their threads once.
    public static let count: Int = read()

    private static func read() -> Int {
        let all = ProcessInfo.processInfo.activeProcessorCount
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        else { return all }
        // "Cpus_allowed:\t00000000,00000003": hexadecimal words, one bit per core.
        let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { count, character in
            count + (character.hexDigitValue?.nonzeroBitCount ?? 0)
        }
        return count > 0 ? min(count, all) : all
    }
}
