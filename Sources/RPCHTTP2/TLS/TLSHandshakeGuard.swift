import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Why a TLS connection was not used for HTTP/2.
public enum TLSHandshakeError: Error, CustomStringConvertible {
    /// The handshake itself failed (untrusted certificate, wrong name, no client certificate, not TLS at all).
    case failed(String)
    /// TLS worked but the peer did not agree to ALPN `h2` (gRPC runs on HTTP/2 only).
    case noHTTP2(negotiated: String?)
    /// The server's certificate is valid but not issued for the name the client expects.
    case wrongServerName(expected: String, certificateNames: [String])
    /// The handshake did not finish in time.
    case timedOut(TimeAmount)
    /// The peer closed the connection before the handshake finished.
    case closed

    public var description: String {
        switch self {
        case .failed(let reason): "TLS handshake failed: \(reason)"
        case .noHTTP2(let negotiated):
            "the TLS peer did not negotiate ALPN \"h2\" (negotiated: \(negotiated.map { "\"\($0)\"" } ?? "none")); "
                + "gRPC needs HTTP/2"
        case .wrongServerName(let expected, let names):
            "TLS handshake failed: the server's certificate is not issued for \"\(expected)\" (its names: "
                + "\(names.isEmpty ? "none" : names.joined(separator: ", "))); check --server-name or the host dialled"
        case .timedOut(let timeout): "the TLS handshake did not finish within \(timeout.nanoseconds / 1_000_000) ms"
        case .closed: "the connection closed during the TLS handshake"
        }
    }

    /// Adds a hint to BoringSSL's terse reasons.
    static func describe(_ error: any Error) -> String {
        let text = reasons(in: "\(error)")
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "\(text): the peer's certificate does not chain to a trusted CA (check the CA file)"
        }
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return "\(text): the server requires a client certificate (mutual TLS)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") {
            return "\(text): the peer does not speak TLS (plaintext on a TLS port, or the other way round)"
        }
        return text
    }

    /// BoringSSL's reason codes (`…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at file:line`) without the
    /// numbers and source paths; the text unchanged when it has none.
    static func reasons(in text: String) -> String {
        let marker = "OPENSSL_internal:"
        var reasons: [Substring] = []
        var rest = text[...]
        while let range = rest.range(of: marker) {
            let tail = rest[range.upperBound...]
            let end = tail.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") } ?? tail.endIndex
            reasons.append(tail[..<end])
            rest = tail[end...]
        }
        return reasons.isEmpty ? text : reasons.joined(separator: ", ")
    }
}

/// Sits right behind NIOSSL's handler and in front of the nghttp2 handler: lets bytes through only once the
/// handshake completed with ALPN `h2`, refuses the connection otherwise, and bounds the handshake's duration.
/// `handshake` completes with the outcome (clients wait on it before their first call).
final class TLSHandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let http2 = "h2"

    let handshake: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private let logger: Logger?
    /// The name the server's certificate must carry (clients dialling a name); `nil` skips the check.
    private let expectedServerName: String?
    private var verified = false
    /// Clients: the handshake is over only at the server's first bytes (see `userInboundEventTriggered`).
    private let clientSide: Bool
    private var finished = false
    private var timer: Scheduled<Void>?

    /// `logger` logs refused handshakes (servers); clients report them through `handshake` instead.
    init(
        handshake: EventLoopPromise<Void>, timeout: TimeAmount, logger: Logger?, clientSide: Bool,
        expectedServerName: String? = nil
    ) {
        self.handshake = handshake
        self.clientSide = clientSide
        self.expectedServerName = expectedServerName
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        finish(.failure(TLSHandshakeError.closed))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            if let wrongName = wrongServerName(context: context) {
                refuse(wrongName, context: context)
            } else if negotiated == Self.http2 {
                verified = true
                // A TLS 1.3 client finishes its handshake before the server has checked the client's certificate;
                // a refusal then arrives as an alert instead of the server's SETTINGS. So a client counts the
                // connection as up at the server's first bytes, and reports such an alert as the reason.
                if !clientSide { finish(.success(())) }
            } else {
                refuse(TLSHandshakeError.noHTTP2(negotiated: negotiated), context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // NIOSSL delivers application data only after the handshake; until ALPN is checked it goes nowhere.
        guard verified else { return }
        finish(.success(()))
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard finished else {
            refuse(TLSHandshakeError.failed(TLSHandshakeError.describe(error)), context: context)
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(TLSHandshakeError.closed))
        context.fireChannelInactive()
    }

    /// The refusal when the server's certificate does not carry the expected name; fails closed (no certificate
    /// to check counts as the wrong one).
    private func wrongServerName(context: ChannelHandlerContext) -> TLSHandshakeError? {
        guard let expected = expectedServerName else { return nil }
        let certificate = (try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self))?.peerCertificate
        let names = certificate.map(ServerNameCheck.dnsNames(of:)) ?? []
        return ServerNameCheck.matches(expected, dnsNames: names)
            ? nil : .wrongServerName(expected: expected, certificateNames: names)
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timer == nil, !finished else { return }
        let timeout = self.timeout
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.refuse(TLSHandshakeError.timedOut(timeout), context: context)
        }
    }

    private func refuse(_ error: TLSHandshakeError, context: ChannelHandlerContext) {
        guard !finished else { return }
        logger?.info(
            "TLS connection refused",
            metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")", "reason": "\(error)"]
        )
        finish(.failure(error))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        handshake.completeWith(result)
    }
}
