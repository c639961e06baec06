import NIOSSL

/// Whether a server certificate was issued for the name a client expects.
///
/// NIOSSL also accepts a certificate whose IP address entry matches the connected address, even when a
/// name was asked for; with a name (`--server_host_override`, or a host name dialled) we require the name
/// itself, as gRPC clients do: a certificate valid for the address but issued for another service is refused.
enum ServerNameCheck {
    /// `name` matches one of `dnsNames` exactly (case-insensitively, ignoring a final dot), or a wildcard
    /// `*.rest` whose `*` stands for exactly the first label of `name` (RFC 6125 §6.4.3, no partial wildcards).
    static func matches(_ name: String, dnsNames: [String]) -> Bool {
        let wanted = normalized(name)
        guard !wanted.isEmpty else { return false }
        let wantedParent = wanted.firstIndex(of: ".").map { wanted[$0...] }
        return dnsNames.contains { candidate in
            let pattern = normalized(candidate)
            if pattern == wanted { return true }
            guard pattern.hasPrefix("*."), let wantedParent else { return false }
            // "*.example.com" covers "a.example.com", not "example.com" nor "a.b.example.com".
            return pattern.dropFirst() == wantedParent && pattern.split(separator: ".").count >= 3
        }
    }

    /// The DNS names of a certificate's subject alternative name extension.
    static func dnsNames(of certificate: NIOSSLCertificate) -> [String] {
        certificate._subjectAlternativeNames().compactMap { entry in
            guard entry.nameType == .dnsName else { return nil }
            return entry.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
    }

    private static func normalized(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }
}
