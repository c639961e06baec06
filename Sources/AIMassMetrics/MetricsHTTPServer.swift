import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The `/metrics` listener of `aimass serve --metrics-port`: a small HTTP/1.1 server beside the gRPC one that
/// answers `GET /metrics` (and `HEAD`) with the Prometheus text exposition, 404 for any other path, 405 for other
/// methods, and 400 (then closes) for a request it cannot parse. One event-loop thread: a scrape every few seconds
/// is all it serves.
///
/// ```swift
/// let exporter = PrometheusExporter()
/// let server = MetricsHTTPServer(host: "127.0.0.1", port: 9464) { exporter.render() }
/// let address = try await server.start()
/// // …
/// await server.shutdown()
/// ```
public final class MetricsHTTPServer: Sendable {
    /// The exposition format's content type.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let host: String
    private let port: Int
    private let render: @Sendable () -> [UInt8]
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel = Mutex<(any Channel)?>(nil)

    /// A listener on `host:port` (0 picks a free port) serving what `render` returns at `/metrics`.
    public init(host: String, port: Int, logger: Logger = Logger(label: "aimass.metrics"), render: @escaping @Sendable () -> [UInt8]) {
        self.host = host
        self.port = port
        self.render = render
        self.logger = logger
    }

    /// Binds and starts serving; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let render = self.render
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: render))
                }
            }
        let bound = try await bootstrap.bind(host: host, port: port).get()
        channel.withLock { $0 = bound }
        guard let address = bound.localAddress else {
            try? await bound.close()
            throw MetricsServerError(message: "the metrics listener has no address")
        }
        logger.info("metrics listening", metadata: ["address": "\(address)", "path": "/metrics"])
        return address
    }

    /// Stops listening, closes its connections and its thread.
    public func shutdown() async {
        let bound = channel.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await bound?.close()
        try? await group.shutdownGracefully()
    }
}

/// Why the metrics listener could not start.
public struct MetricsServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Answers one connection's requests (keep-alive honoured).
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let render: @Sendable () -> [UInt8]
    private var request: HTTPRequestHead?

    init(render: @escaping @Sendable () -> [UInt8]) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // a body on GET is ignored
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    /// A request NIO could not parse: its error handler (before this one) has answered 400; close the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let status: HTTPResponseStatus
        var body: [UInt8]
        var headers = HTTPHeaders()
        if path != "/metrics" {
            status = .notFound
            body = Array("not found: metrics are at /metrics\n".utf8)
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        } else if head.method != .GET && head.method != .HEAD {
            status = .methodNotAllowed
            body = Array("use GET\n".utf8)
            headers.add(name: "content-type", value: "text/plain; charset=utf-8")
            headers.add(name: "allow", value: "GET, HEAD")
        } else {
            status = .ok
            body = render()
            headers.add(name: "content-type", value: MetricsHTTPServer.contentType)
        }
        headers.add(name: "content-length", value: String(body.count))
        if head.method == .HEAD { body = [] }
        let keepAlive = head.isKeepAlive
        headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlushWithPromise(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushWithPromise(_ data: NIOAny) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        writeAndFlush(data, promise: promise)
        return promise.futureResult
    }
}
