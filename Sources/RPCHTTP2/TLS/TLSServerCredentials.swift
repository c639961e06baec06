import Foundation
import Logging
import NIOSSL
import Synchronization

/// The certificate, key and optional client CA of a TLS listener, reloadable while serving.
///
/// Every accepted connection takes the context current at that moment, so ``reload()`` (on SIGHUP, or when
/// ``watchFiles(every:logger:)`` sees the files change) moves new connections to the new certificate while the open ones keep
/// theirs. A reload that fails (a half-written file, a key that does not match) keeps the previous context.
///
/// ALPN offers only `h2`; a client that does not negotiate it is refused (see ``TLSHandshakeError``). With a
/// client CA, a client must present a certificate that chains to it, or the handshake fails.
public final class TLSServerCredentials: Sendable {
    /// Where the PEM files are.
    public struct Files: Sendable, Equatable {
        /// The server certificate, followed by any intermediates.
        public var certificateChain: String
        public var privateKey: String
        /// When set, clients must present a certificate issued by one of the CAs in this file (mutual TLS).
        public var clientCA: String?

        public init(certificateChain: String, privateKey: String, clientCA: String? = nil) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.clientCA = clientCA
        }

        var paths: [String] { [certificateChain, privateKey] + (clientCA.map { [$0] } ?? []) }
    }

    /// What is being served now: the context, the leaf's serial, and the file stamps it was built from.
    private struct Loaded {
        var context: NIOSSLContext
        var serial: String
        var stamps: [TLSFiles.Stamp?]
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
    }

    public let files: Files
    private let loaded: Mutex<Loaded>

    /// Loads the files; throws ``TLSFileError`` (or NIOSSL's error) when they cannot make a server context.
    public init(files: Files) throws {
        self.files = files
        self.loaded = Mutex(try Self.load(files))
    }

    /// The serial number (hex) of the certificate new connections get.
    public var certificateSerial: String { loaded.withLock { $0.serial } }

    /// The certificate chain and key new connections get: for another listener that serves the same certificate with
    /// TLS settings of its own (the web console's HTTPS, ALPN `http/1.1`) and follows every reload.
    public var current: (certificateChain: [NIOSSLCertificate], privateKey: NIOSSLPrivateKey) {
        loaded.withLock { ($0.chain, $0.key) }
    }

    /// Reads the files again and serves the new certificate on new connections; returns its serial.
    /// On error nothing changes.
    @discardableResult
    public func reload() throws -> String {
        let fresh = try Self.load(files)
        loaded.withLock { $0 = fresh }
        return fresh.serial
    }

    /// Checks the files every `interval` and reloads when one changed, until the task is cancelled.
    public func watchFiles(every interval: Duration, logger: Logger) -> Task<Void, Never> {
        Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                reloadIfChanged(logger: logger)
            }
        }
    }

    /// Reloads when a file changed since the last load (or last failed attempt); logs the outcome.
    func reloadIfChanged(logger: Logger) {
        let stamps = files.paths.map(TLSFiles.Stamp.of)
        let changed = loaded.withLock { loaded -> Bool in
            guard loaded.stamps != stamps else { return false }
            loaded.stamps = stamps  // a failed attempt is not retried until the files change again
            return true
        }
        if changed { reloadLogged(logger: logger, reason: "the files changed") }
    }

    /// ``reload()``, logging the new serial or the error.
    public func reloadLogged(logger: Logger, reason: String) {
        do {
            let serial = try reload()
            logger.notice("TLS certificate reloaded", metadata: ["reason": "\(reason)", "serial": "\(serial)"])
        } catch {
            logger.error(
                "TLS certificate reload failed; still serving the previous certificate",
                metadata: ["reason": "\(reason)", "error": "\(error)"]
            )
        }
    }

    /// A handler for one new connection, with the current context.
    func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: loaded.withLock { $0.context })
    }

    private static func load(_ files: Files) throws -> Loaded {
        // Stamps first: a file replaced while loading shows as changed on the next check.
        let stamps = files.paths.map(TLSFiles.Stamp.of)
        let chain = try TLSFiles.certificates(files.certificateChain)
        let key = try TLSFiles.privateKey(files.privateKey)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = [TLSHandshakeGuard.http2]
        if let clientCA = files.clientCA {
            configuration.trustRoots = .certificates(try TLSFiles.certificates(clientCA))
            configuration.certificateVerification = .noHostnameVerification
            configuration.sendCANameList = true
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(
                path: files.privateKey,
                problem: "cannot serve \(files.certificateChain) with this key (does the key match the certificate?): \(error)"
            )
        }
        return Loaded(context: context, serial: chain[0].serialHex, stamps: stamps, chain: chain, key: key)
    }
}
