import AIMassAPI
import AIMassInterop
import ArgumentParser
@preconcurrency import Foundation
import Logging
import RPCCore
import RPCHTTP2
import RPCHealth
import RPCReflection

/// `aimass-interop`: the official gRPC interop server and client cases, with the official flags.
@main
struct InteropCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aimass-interop",
        abstract: "The gRPC interop test server and client of AI Mass.",
        subcommands: [Server.self, Client.self]
    )

    struct Server: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve grpc.testing.TestService and health.")

        @Option(name: .customLong("port"), help: "The port to listen on (0 picks a free one).")
        var port: Int = 10000

        @Option(name: .customLong("host"), help: "The address to bind.")
        var host: String = "127.0.0.1"

        @Option(name: .customLong("use_tls"), help: "TLS is not supported; must be false.")
        var useTLS: Bool = false

        @Option(name: .customLong("keepalive_ms"), help: "Send a PING after this long without reading (0: default 2 h).")
        var keepaliveMilliseconds: Int = 0

        @Option(name: .customLong("min_ping_interval_ms"), help: "Answer pings closer than this with GOAWAY too_many_pings.")
        var minPingIntervalMilliseconds: Int = 300_000

        @Option(name: .customLong("max_connection_idle_ms"), help: "Close connections idle this long (0: never).")
        var maxIdleMilliseconds: Int = 0

        @Option(name: .customLong("max_connection_age_ms"), help: "Drain connections this old (0: never).")
        var maxAgeMilliseconds: Int = 0

        @Option(name: .customLong("max_connection_age_grace_ms"), help: "Then close them after this grace.")
        var maxAgeGraceMilliseconds: Int = 30_000

        @Option(name: .customLong("busy_poll_us"), help: "Keep the core out of idle this long after each read (0: off).")
        var busyPollMicroseconds: Int = 0

        func run() async throws {
            guard !useTLS else { throw ValidationError("TLS is not supported") }
            var management = ServerConfiguration.ConnectionManagement.defaults
            if keepaliveMilliseconds > 0 { management.keepaliveInterval = .milliseconds(keepaliveMilliseconds) }
            management.minPingInterval = .milliseconds(minPingIntervalMilliseconds)
            if maxIdleMilliseconds > 0 { management.maxIdle = .milliseconds(maxIdleMilliseconds) }
            if maxAgeMilliseconds > 0 { management.maxAge = .milliseconds(maxAgeMilliseconds) }
            management.maxAgeGrace = .milliseconds(maxAgeGraceMilliseconds)
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            var logger = Logger(label: "aimass-interop")
            logger.logLevel = .warning
            let reflection = try ReflectionService(
                files: DescriptorSets.grpcTesting + DescriptorSets.grpcHealthV1 + DescriptorSets.grpcReflectionV1
                    + DescriptorSets.grpcReflectionV1alpha,
                services: [TestService.serviceName, HealthService.serviceName]
            )
            let server = RPCServer(
                configuration: .defaults {
                    $0.host = host
                    $0.port = port
                    $0.connection = management
                    if busyPollMicroseconds > 0 { $0.busyPollWindow = .microseconds(busyPollMicroseconds) }
                },
                services: [TestService(), HealthService(), reflection],
                logger: logger
            )
            let address = try await server.start()
            FileHandle.standardOutput.write(Data("aimass-interop listening on \(host):\(address.port ?? port)\n".utf8))
            await TerminationSignal.wait()
            await server.shutdown(gracePeriod: .seconds(2))
        }
    }
}

extension InteropCommand {
    struct Client: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one official interop client case.")

        @Option(name: .customLong("server_host"), help: "The server's host.")
        var serverHost: String = "127.0.0.1"

        @Option(name: .customLong("server_port"), help: "The server's port.")
        var serverPort: Int = 10000

        @Option(name: .customLong("test_case"), help: "The case to run, e.g. large_unary.")
        var testCase: String = "large_unary"

        @Option(name: .customLong("use_tls"), help: "TLS is not supported; must be false.")
        var useTLS: Bool = false

        func run() async throws {
            guard !useTLS else { throw ValidationError("TLS is not supported") }
            guard let testCase = InteropClientCase(rawValue: testCase) else {
                let known = InteropClientCase.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("unknown test case \(testCase); known: \(known)")
            }
            let client = RPCClient(host: serverHost, port: serverPort)
            do {
                try await testCase.run(with: client)
                await client.close()
                FileHandle.standardOutput.write(Data("\(testCase.rawValue): PASSED\n".utf8))
            } catch {
                await client.close()
                FileHandle.standardError.write(Data("\(testCase.rawValue): FAILED: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
