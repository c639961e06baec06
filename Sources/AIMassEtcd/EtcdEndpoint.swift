/// One member of an etcd cluster, reached over plaintext HTTP/2 (h2c): `http://HOST:PORT` or `HOST:PORT`, or over
/// TLS: `https://HOST:PORT` (the client's ``EtcdClient`` TLS configuration then applies).
public struct EtcdEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The host name or address.
    public var host: String
    /// The client port (2379 by convention).
    public var port: Int
    /// Whether the member is reached over TLS (`https://`).
    public var tls: Bool

    /// Creates an endpoint.
    public init(host: String, port: Int, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    public var description: String { (tls ? "https://" : "") + "\(host):\(port)" }

    /// Parses `--etcd`'s value: endpoints separated by commas, each `http://HOST:PORT`, `https://HOST:PORT` or
    /// `HOST:PORT` (plaintext).
    ///
    /// - Throws: ``EtcdError/invalidEndpoint(_:)`` for an empty list or a part without a valid port.
    public static func parseList(_ text: String) throws(EtcdError) -> [EtcdEndpoint] {
        let parts = text.split(separator: ",").map(trimmed).filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw .invalidEndpoint("no etcd endpoint given") }
        var endpoints: [EtcdEndpoint] = []
        for part in parts {
            var rest = Substring(part)
            let tls = rest.hasPrefix("https://")
            if tls { rest = rest.dropFirst("https://".count) }
            if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
                (1...65535).contains(port), colon != rest.startIndex
            else { throw .invalidEndpoint("\(part): expected http://HOST:PORT or https://HOST:PORT") }
            var host = String(rest[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            endpoints.append(EtcdEndpoint(host: host, port: port, tls: tls))
        }
        return endpoints
    }
}

private func trimmed(_ text: Substring) -> String {
    var view = text
    while view.first == " " { view = view.dropFirst() }
    while view.last == " " { view = view.dropLast() }
    return String(view)
}
