import AIMassInterop
import ArgumentParser
@preconcurrency import Foundation
import Logging
import RPCCore
import RPCHTTP2
import RPCHealth

/// `aimass-interop`: the official gRPC interop server and client cases, with the official flags.
@main
struct InteropCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aimass-interop",
        abstract: "The gRPC interop test server and client of AI Mass.",
        subcommands: [Server.self]
    )

    struct Server: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve grpc.testing.TestService and health.")

        @Option(name: .customLong("port"), help: "The port to listen on (0 picks a free one).")
        var port: Int = 10000

        @Option(name: .customLong("host"), help: "The address to bind.")
        var host: String = "127.0.0.1"

        @Option(name: .customLong("use_tls"), help: "TLS is not supported; must be false.")
        var useTLS: Bool = false

        func run() async throws {
            guard !useTLS else { throw ValidationError("TLS is not supported") }
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            var logger = Logger(label: "aimass-interop")
            logger.logLevel = .warning
            let server = RPCServer(
                configuration: .defaults {
                    $0.host = host
                    $0.port = port
                },
                services: [TestService(), HealthService()],
                logger: logger
            )
            let address = try await server.start()
            FileHandle.standardOutput.write(Data("aimass-interop listening on \(host):\(address.port ?? port)\n".utf8))
            try await waitForTermination()
            await server.shutdown(gracePeriod: .seconds(2))
        }
    }
}

/// The signal sources stay alive for the whole process; they are only read on their queue.
nonisolated(unsafe) private var signalSources: [any DispatchSourceSignal] = []

/// Suspends until SIGTERM or SIGINT.
func waitForTermination() async throws {
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    let (stream, continuation) = AsyncStream<Void>.makeStream()
    for signalNumber in [SIGTERM, SIGINT] {
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.resume()
        signalSources.append(source)
    }
    for await _ in stream { return }
}
