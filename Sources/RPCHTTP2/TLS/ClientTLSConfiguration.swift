import NIOCore
import NIOSSL

/// How an ``RPCClient`` speaks TLS: which CAs it trusts, the certificate it presents for mutual TLS, and the
/// name it expects on the server's certificate. ALPN offers only `h2`; a server that does not select it is
/// refused with ``TLSHandshakeError/noHTTP2(negotiated:)``.
///
/// ```swift
/// let tls = try ClientTLSConfiguration(caFile: "ca.pem", certificateFile: "client.pem", keyFile: "client.key")
/// let client = RPCClient(host: "cp.example", port: 50051, configuration: .defaults { $0.tls = tls })
/// ```
public struct ClientTLSConfiguration: Sendable {
    let context: NIOSSLContext
    /// The name checked against the server's certificate and sent as SNI and `:authority`; `nil`: the host
    /// connected to (an IP address is checked against the certificate's IP addresses, and sends no SNI).
    public var serverNameOverride: String?
    /// Longest time the handshake may take once connected.
    public var handshakeTimeout: Duration

    /// Loads the files now, so a bad path or file fails here with ``TLSFileError``, not at the first call.
    ///
    /// - Parameters:
    ///   - caFile: PEM CA certificates to trust; `nil` trusts the system's CAs.
    ///   - certificateFile: The client certificate chain (PEM), for servers that require one.
    ///   - keyFile: Its private key (PEM); required with `certificateFile`.
    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        serverNameOverride: String? = nil, handshakeTimeout: Duration = .seconds(10)
    ) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = [TLSHandshakeGuard.http2]
        if let caFile {
            configuration.trustRoots = .certificates(try TLSFiles.certificates(caFile))
        }
        switch (certificateFile, keyFile) {
        case (let certificateFile?, let keyFile?):
            configuration.certificateChain = try TLSFiles.certificates(certificateFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try TLSFiles.privateKey(keyFile))
        case (nil, nil):
            break
        case (let path?, nil), (nil, let path?):
            throw TLSFileError(path: path, problem: "a client certificate needs both a certificate file and a key file")
        }
        do {
            self.context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(
                path: keyFile ?? caFile ?? "(system CAs)",
                problem: "cannot make a TLS client context (does the key match the certificate?): \(error)"
            )
        }
        self.serverNameOverride = serverNameOverride
        self.handshakeTimeout = handshakeTimeout
    }

    /// The handlers to put in front of the HTTP/2 handler for a connection to `host`; the guard completes
    /// `handshake` when TLS has negotiated `h2`, or fails it with the reason.
    func makeHandlers(
        host: String, handshake: EventLoopPromise<Void>
    ) throws -> (tls: NIOSSLClientHandler, guard: TLSHandshakeGuard) {
        let name = serverNameOverride ?? host
        // SNI carries names only; for an address NIOSSL checks the certificate against the connected IP.
        let sniName = Self.isIPAddress(name) ? nil : name
        let tls = try NIOSSLClientHandler(context: context, serverHostname: sniName)
        let guardHandler = TLSHandshakeGuard(
            handshake: handshake, timeout: TimeAmount(handshakeTimeout), logger: nil, clientSide: true,
            expectedServerName: sniName
        )
        return (tls, guardHandler)
    }

    static func isIPAddress(_ text: String) -> Bool {
        (try? SocketAddress(ipAddress: text, port: 0)) != nil
    }
}
