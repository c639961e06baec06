import ArgumentParser
import RPCCore
@preconcurrency import Foundation

/// Printing helpers: errors, JSON, tables, the progress bar.
enum CLIOutput {
    /// Writes with stdio: a reader that went away (`| head`) must not crash the command, which
    /// FileHandle.write does on EPIPE.
    static func write(_ text: String, to file: UnsafeMutablePointer<FILE>) {
        signal(SIGPIPE, SIG_IGN)
        fputs(text, file)
        fflush(file)
    }

    /// Prints `error: MESSAGE` on stderr and exits with status 1.
    static func fail(_ message: String) -> Never {
        write("error: \(message)\n", to: Glibc.stderr)
        Foundation.exit(1)
    }

    /// Prints a failed call as `error: CODE: message`, a hint of what to do, and exits with
    /// 10 + the gRPC status code (e.g. 15 for NOT_FOUND, 24 for UNAVAILABLE), so scripts can tell them apart.
    static func fail(_ error: RPCError, server: String) -> Never {
        var text = "error: \(error.code): \(error.message)\n"
        if let hint = hint(for: error, server: server) { text += "hint: \(hint)\n" }
        write(text, to: Glibc.stderr)
        Foundation.exit(10 + error.code.rawValue)
    }

    static func hint(for error: RPCError, server: String) -> String? {
        switch error.code {
        case .unavailable where error.message.contains("TLS") || error.message.contains("certificate"):
            "check the TLS options: --ca-file, --cert-file/--key-file, --server-name ($AIMASS_CA_FILE, "
                + "$AIMASS_CERT_FILE, $AIMASS_KEY_FILE, $AIMASS_SERVER_NAME)"
        case .unavailable:
            "is `aimass serve` running at \(server)? (--server, $AIMASS_SERVER; a TLS server needs --ca-file or --tls)"
        case .unauthenticated: "pass --token, set $AIMASS_TOKEN, or point --data-dir at the server's data directory"
        case .permissionDenied: "ask an owner of the model: aimass model grant MODEL user:NAME reader|writer|owner"
        case .notFound where error.message.hasPrefix("worker "): "aimass pool list shows the workers"
        case .notFound where error.message.hasPrefix("deployment "): "aimass deployments lists the deployments"
        case .notFound: "aimass model list shows the models you can read"
        case .deadlineExceeded: "raise --timeout"
        case .resourceExhausted: "the server is shedding load or the message is too large: retry later or send less"
        default: nil
        }
    }

    static func stderr(_ text: String) {
        write(text, to: Glibc.stderr)
    }

    /// Prints a JSON value (dictionaries, arrays, strings, numbers, bools) with sorted keys.
    static func printJSON(_ value: Any) {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
        else {
            fail("cannot encode the result as JSON")
        }
        write(String(decoding: data, as: UTF8.self) + "\n", to: stdout)
    }

    /// Prints rows under a header, columns padded to their widest cell.
    static func printTable(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// `1.5 MiB`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `2024-05-01 12:00:00` (UTC) for milliseconds since 1970; `-` for 0.
    static func time(_ ms: Int64) -> String {
        guard ms > 0 else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

/// A progress bar on stderr, redrawn at most ten times a second (and only when stderr is a terminal, unless forced).
final class ProgressBar {
    private let label: String
    private let total: Int64
    private let enabled: Bool
    private var done: Int64 = 0
    private var lastDraw = Date.distantPast
    private let start = Date()

    init(label: String, total: Int64, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.total = max(total, 0)
        self.enabled = enabled
    }

    func advance(by count: Int) {
        done += Int64(count)
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= 0.1 || done >= total {
            lastDraw = now
            draw()
        }
    }

    func finish() {
        guard enabled else { return }
        draw()
        CLIOutput.stderr("\n")
    }

    private func draw() {
        guard enabled else { return }
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let elapsed = max(Date().timeIntervalSince(start), 0.001)
        let rate = CLIOutput.bytes(Int64(Double(done) / elapsed))
        CLIOutput.stderr(
            "\r\(label) [\(bar)] \(String(format: "%3.0f", fraction * 100))% "
                + "\(CLIOutput.bytes(done))/\(CLIOutput.bytes(total)) \(rate)/s"
        )
    }
}
