#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The memory of this process as /proc/self/status reports it.
public enum ResidentMemory {
    /// One `kB` field of /proc/self/status (`VmRSS`, `VmHWM`, …) in MiB, formatted as `12.3 MiB`, or `?` when the
    /// file or the field is missing (not Linux).
    ///
    /// ```swift
    /// print("rss \(ResidentMemory.field("VmRSS")), peak \(ResidentMemory.field("VmHWM"))")
    /// ```
    public static func field(_ name: String) -> String {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kilobytes = line.split(separator: " ").dropFirst().compactMap { Double($0) }.first ?? 0
            return String(format: "%.1f MiB", kilobytes / 1024)
        }
        return "?"
    }

    /// The resident set now (`VmRSS`).
    public static var resident: String { field("VmRSS") }
    /// The peak resident set (`VmHWM`).
    public static var peak: String { field("VmHWM") }
}
