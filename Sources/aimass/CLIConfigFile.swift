@preconcurrency import Foundation

/// The optional configuration file of the `aimass` client commands.
///
/// Settings come from flags first, then the environment, then this file: `$AIMASS_CONFIG`, else
/// `~/.config/aimass/config`. One `key = value` per line; `#` starts a comment. Keys: `server`
/// (HOST:PORT), `token`, `data-dir`, `timeout` (seconds), and TLS: `tls` (true), `ca-file`, `cert-file`,
/// `key-file`, `server-name`.
///
/// ```
/// # ~/.config/aimass/config
/// server = 10.0.0.5:50051
/// token = 3f1c…
/// ```
struct CLIConfigFile {
    private(set) var values: [String: String] = [:]
    let path: String

    static let knownKeys: Set<String> = [
        "server", "token", "data-dir", "timeout", "tls", "ca-file", "cert-file", "key-file", "server-name",
    ]

    /// Loads the file if it exists; a malformed line or an unknown key stops the command with its line number.
    static func load(environment: [String: String]) -> CLIConfigFile {
        let path = environment["AIMASS_CONFIG"]
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".config/aimass/config")
        var file = CLIConfigFile(path: path)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            if environment["AIMASS_CONFIG"] != nil { CLIOutput.fail("cannot read the configuration file \(path) ($AIMASS_CONFIG)") }
            return file
        }
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                CLIOutput.fail("\(path):\(index + 1): expected 'key = value'")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard knownKeys.contains(key) else {
                CLIOutput.fail("\(path):\(index + 1): unknown key '\(key)' (known: \(knownKeys.sorted().joined(separator: ", ")))")
            }
            file.values[key] = value
        }
        return file
    }

    subscript(key: String) -> String? { values[key] }
}
