import Foundation
import RecommendCore

struct UsageError: Error {
    var message: String
}

/// `command --key value --flag ...`, consumed option by option; ``finish()`` rejects leftovers.
struct Arguments {
    let command: String
    private var options: [String: String] = [:]
    private var flags: Set<String> = []

    init(_ raw: [String]) throws {
        guard let command = raw.first else {
            throw UsageError(message: "missing command")
        }
        self.command = command
        var index = 1
        while index < raw.count {
            let word = raw[index]
            guard word.hasPrefix("--") else {
                throw UsageError(message: "unexpected argument '\(word)'")
            }
            let name = String(word.dropFirst(2))
            if index + 1 < raw.count && !raw[index + 1].hasPrefix("--") {
                self.options[name] = raw[index + 1]
                index += 2
            } else {
                self.flags.insert(name)
                index += 1
            }
        }
    }

    mutating func string(_ name: String) -> String? {
        self.options.removeValue(forKey: name)
    }

    mutating func required(_ name: String) throws -> String {
        guard let value = self.string(name) else {
            throw UsageError(message: "missing --\(name)")
        }
        return value
    }

    mutating func int(_ name: String, default value: Int) throws -> Int {
        guard let text = self.string(name) else {
            return value
        }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw UsageError(message: "--\(name) '\(text)' is not an integer")
        }
        return number
    }

    mutating func double(_ name: String, default value: Double) throws -> Double {
        guard let text = self.string(name) else {
            return value
        }
        guard let number = Double(text) else {
            throw UsageError(message: "--\(name) '\(text)' is not a number")
        }
        return number
    }

    mutating func flag(_ name: String) -> Bool {
        self.flags.remove(name) != nil
    }

    /// The manifest from `--manifest FILE` or from the individual options.
    mutating func manifest() throws -> Manifest {
        if let path = self.string("manifest") {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw UsageError(message: "cannot read manifest '\(path)': \(error)")
            }
            return try Manifest(parsing: text)
        }
        var lines = ["algorithm = \(self.string("algorithm") ?? "itemcf")"]
        for key in ["neighbours", "feedback", "weighting"] {
            if let value = self.string(key) {
                lines.append("\(key) = \(value)")
            }
        }
        lines.append("normalize = \(self.flag("normalize"))")
        return try Manifest(parsing: lines.joined(separator: "\n"))
    }

    func finish() throws {
        let leftovers = self.options.keys.map { "--\($0)" } + self.flags.map { "--\($0)" }
        if !leftovers.isEmpty {
            throw UsageError(message: "unknown options: \(leftovers.sorted().joined(separator: " "))")
        }
    }
}

/// Wall-clock seconds of `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    let elapsed = ContinuousClock.now - start
    return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
}

/// Resident memory from /proc/self/status (VmRSS), in bytes; nil where unavailable.
func residentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
        return nil
    }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let fields = line.split(separator: " ")
        if fields.count >= 2, let kilobytes = Int(fields[1]) {
            return kilobytes * 1024
        }
    }
    return nil
}

func megabytes(_ bytes: Int) -> String {
    String(format: "%.1f MiB", Double(bytes) / 1_048_576)
}

func loadTable(_ path: String) throws -> InteractionTable {
    try InteractionTable(contentsOfFile: path)
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}
