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

        @Option(name: .customLong("use_tls"), help: "Serve TLS (ALPN h2) with --tls-cert and --tls-key.")
        var useTLS: Bool = false

        @Option(name: .customLong("tls-cert"), help: "PEM certificate chain (with --use_tls=true).")
        var certificateFile: String?

        @Option(name: .customLong("tls-key"), help: "PEM private key (with --use_tls=true).")
        var keyFile: String?

        @Option(name: .customLong("tls-client-ca"), help: "Require client certificates signed by these PEM CAs.")
        var clientCAFile: String?

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

        @Option(name: .customLong("defer_accept_s"), help: "Accept a silent connection only after this long (0: at once).")
        var deferAcceptSeconds: Int = 10

        /// The listener's TLS credentials when --use_tls=true.
        func credentials() throws -> TLSServerCredentials? {
            guard useTLS else {
                guard certificateFile == nil, keyFile == nil, clientCAFile == nil else {
                    throw ValidationError("--tls-cert, --tls-key and --tls-client-ca need --use_tls=true")
                }
                return nil
            }
            guard let certificateFile, let keyFile else {
                throw ValidationError("--use_tls=true needs --tls-cert and --tls-key (PEM files)")
            }
            do {
                return try TLSServerCredentials(
                    files: .init(certificateChain: certificateFile, privateKey: keyFile, clientCA: clientCAFile)
                )
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            let tls = try credentials()
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
                    $0.tls = tls
                    if busyPollMicroseconds > 0 { $0.busyPollWindow = .microseconds(busyPollMicroseconds) }
                    $0.deferAccept = deferAcceptSeconds > 0 ? .seconds(deferAcceptSeconds) : nil
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

        @Option(name: .customLong("use_tls"), help: "Connect over TLS (ALPN h2).")
        var useTLS: Bool = false

        @Option(name: .customLong("ca-file"), help: "PEM CAs to trust (with --use_tls=true; default: the system's).")
        var caFile: String?

        @Option(name: .customLong("server_host_override"), help: "The name expected on the server's certificate.")
        var serverHostOverride: String?

        @Option(name: .customLong("cert-file"), help: "PEM client certificate, for servers that require one.")
        var certificateFile: String?

        @Option(name: .customLong("key-file"), help: "PEM private key of --cert-file.")
        var keyFile: String?

        /// The client's TLS configuration when --use_tls=true.
        func tlsConfiguration() throws -> ClientTLSConfiguration? {
            guard useTLS else {
                guard caFile == nil, serverHostOverride == nil, certificateFile == nil, keyFile == nil else {
                    throw ValidationError("--ca-file, --server_host_override, --cert-file and --key-file need --use_tls=true")
                }
                return nil
            }
            do {
                return try ClientTLSConfiguration(
                    caFile: caFile, certificateFile: certificateFile, keyFile: keyFile,
                    serverNameOverride: serverHostOverride
                )
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            let tls = try tlsConfiguration()
            guard let testCase = InteropClientCase(rawValue: testCase) else {
                let known = InteropClientCase.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("unknown test case \(testCase); known: \(known)")
            }
            let client = RPCClient(host: serverHost, port: serverPort, configuration: .defaults { $0.tls = tls })
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
