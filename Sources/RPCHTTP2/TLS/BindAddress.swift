import NIOCore

/// What a bind address exposes: servers refuse plaintext on any address but loopback (bearer tokens would
/// cross the network in clear) unless the operator explicitly accepts it.
public enum BindAddress {
    /// True for addresses that only this machine can reach: `localhost`, 127.0.0.0/8 and `::1`
    /// (also as `::ffff:127.x.y.z`). Any other name may resolve to a routable address, so it is not.
    public static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        let text = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return false }
        switch address {
        case .v4(let v4):
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            let mapped = bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF
            return mapped && bytes[12] == 127
        case .unixDomainSocket:
            return true
        }
    }
}
