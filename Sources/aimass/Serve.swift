import AIMassAPI
import AIMassConsole
import AIMassEtcd
import AIMassMetrics
import AIMassServices
import AIMassServer
import AIMassTracing
import ArgumentParser
@preconcurrency import Foundation
import Logging
import Metrics
import ModelRegistry
import RPCCore
import RPCHTTP2

/// `aimass serve`: runs the platform (control plane + local worker), a control plane alone, or a worker.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the AI Mass server: embedded (default), control plane only, or a pool worker.",
        discussion: """
            Examples:
              aimass serve --port 50051 --data-dir ./data        # control plane + one local worker
              aimass serve --port 0                              # picks a free port and prints it
              aimass serve --role control-plane --port 50051     # replicas go to worker processes
              aimass serve --role worker --join 127.0.0.1:50051 --port 0 --token ADMIN_TOKEN
              aimass serve --host 0.0.0.0 --tls-cert server.pem --tls-key server.key --tls-client-ca clients-ca.pem
              aimass serve --role worker --join cp.example:50051 --ca-file ca.pem --cert-file worker.pem \\
                  --key-file worker.key --tls-cert worker-server.pem --tls-key worker-server.key
            Plaintext is refused on an address other than loopback unless --insecure is given.
            """
    )

    @Option(help: "embedded (control plane + local worker), control-plane, or worker.")
    var role: String = "embedded"

    @Option(help: "The address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port: Int = 50051

    @Option(name: .customLong("data-dir"), help: "Where metadata and artifacts are stored (control plane).")
    var dataDirectory: String = "./aimass-data"

    @Option(
        name: .customLong("artifact-dir"),
        help: "Control plane: where model artifacts are stored (default DATA-DIR/artifacts); with --etcd, a directory every control plane reads and writes (content-addressed, so concurrent writers are safe)."
    )
    var artifactDirectory: String?

    @Option(
        name: .customLong("max-artifact-mb"),
        help: "Control plane: the largest model artifact an upload may store, in MiB."
    )
    var maxArtifactMB: Int64 = 4096

    @Option(help: "Worker: the control plane to join, HOST:PORT; several (HOST:PORT,HOST:PORT,...) for control planes on etcd: the worker joins the leader.")
    var join: String?

    @Option(help: "Worker: an admin token (default: $AIMASS_TOKEN).")
    var token: String?

    @Option(name: .customLong("capacity-cpu-millis"), help: "Worker capacity in CPU millicores (default: every core).")
    var capacityCPUMillis: Int64?

    @Option(name: .customLong("capacity-memory-bytes"), help: "Worker capacity in bytes (default: physical memory).")
    var capacityMemoryBytes: Int64?

    @Option(name: .customLong("capacity-replicas"), help: "Worker capacity in replica slots (default 8).")
    var capacityReplicas: UInt32?

    @Option(name: .customLong("lease-ms"), help: "Control plane: a worker silent this long is gone (default 5000).")
    var leaseMs: Int = 5000

    @Option(
        name: .customLong("autoscale-stable-ms"),
        help: "Control plane: the autoscaler's stable window in ms, averaged for steady decisions."
    )
    var autoscaleStableMs: Int = 60000

    @Option(
        name: .customLong("autoscale-panic-ms"),
        help: "Control plane: the autoscaler's panic window in ms, averaged for bursts."
    )
    var autoscalePanicMs: Int = 6000

    @Option(
        name: .customLong("queue-budget-ms"),
        help: "Worker: how long a Recommend call over the limit may wait for a slot before it is shed (0: shed at once; default: 5, and no longer than a typical call takes)."
    )
    var queueBudgetMs: Int?

    /// `--queue-budget-ms` as given (waited in full), or the default budget.
    var queueBudget: QueueBudget { queueBudgetMs.map { .exactly(.milliseconds($0)) } ?? .default }

    @Option(
        name: .customLong("restart-grace-ms"),
        help: "Control plane: after a restart, the longest placement waits for the workers it knew to rejoin and report their replicas (default 10000)."
    )
    var restartGraceMs: Int = 10000

    @Option(
        name: .customLong("keepalive-ms"),
        help: "Worker: PING the control plane after this many ms of silence on the Join stream and rejoin when a PING is not answered within as long (default 5000; 0: no PINGs)."
    )
    var keepaliveMs: Int = 5000

    @Option(
        name: .customLong("http-port"),
        help: "Also serve the web console and its JSON API on this HTTP port (0 picks a free one; off when absent); on a worker, read-only. HTTPS with --tls-cert, the console then calling this server with --ca-file (and --cert-file with --tls-client-ca)."
    )
    var httpPort: Int?

    @Option(
        help: "Control plane: run highly available on this etcd cluster, http://HOST:PORT or https://HOST:PORT[,...] (one leader among every control plane given the same endpoints and --etcd-prefix; each its own --data-dir, one shared --artifact-dir)."
    )
    var etcd: String?

    @Option(name: .customLong("etcd-prefix"), help: "Control plane with --etcd: the prefix of every etcd key (default /aimass).")
    var etcdPrefix: String = "/aimass"

    @Option(name: .customLong("etcd-ca-file"), help: "Control plane with https:// --etcd endpoints: PEM CAs that sign the etcd members' certificates (default: the system's).")
    var etcdCAFile: String?

    @Option(name: .customLong("etcd-cert-file"), help: "Control plane with https:// --etcd endpoints: PEM client certificate, for etcd with --client-cert-auth.")
    var etcdCertFile: String?

    @Option(name: .customLong("etcd-key-file"), help: "The PEM private key of --etcd-cert-file.")
    var etcdKeyFile: String?

    @Option(
        name: .customLong("leader-ttl-s"),
        help: "Control plane with --etcd: the leader lease's TTL in seconds; a dead leader is replaced within it (default 10)."
    )
    var leaderTTLSeconds: Int64 = 10

    @Option(help: "Control plane with --etcd: the HOST:PORT the other control planes send clients to (default: --host and the port).")
    var advertise: String?

    @Option(
        name: .customLong("etcd-max-txn-ops"),
        help: "Control plane with --etcd: etcd's --max-txn-ops, the most registry rows one change may touch (default 128, etcd's default)."
    )
    var etcdMaxTxnOps: Int = 128

    @Option(
        name: .customLong("max-connections"),
        help: "Client connections held at most; one more closes the oldest idle one first (default 20000, kept below the open-file limit)."
    )
    var maxConnections: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    @OptionGroup(title: "TLS of the listener")
    var tls: ServeTLSOptions

    @OptionGroup(title: "Worker: TLS towards the control plane (--join); control plane with --http-port and --tls-cert: of the console's gateway")
    var joinTLS: ClientTLSOptions

    @Option(
        name: .customLong("metrics-port"),
        help: "Serve Prometheus metrics at http://HOST:PORT/metrics (0 picks a free port); off when absent."
    )
    var metricsPort: Int?

    @Option(name: .customLong("log-format"), help: "text (the default) or json (one JSON object per log line).")
    var logFormat: String = "text"

    @Flag(
        name: .customLong("access-log"), inversion: .prefixedNo,
        help: "Log one line per gRPC call (method, status, duration, peer, model, token id); off by default."
    )
    var accessLog: Bool = false

    @OptionGroup(title: "Tracing")
    var tracing: TracingOptions

    func validatedMaxConnections() -> Int? {
        if let maxConnections, maxConnections < 1 { CLIOutput.fail("--max-connections must be >= 1, got \(maxConnections)") }
        return maxConnections
    }

    func capacity() -> Capacity {
        var capacity = WorkerServer.machineCapacity()
        if let capacityCPUMillis { capacity.cpuMillis = capacityCPUMillis }
        if let capacityMemoryBytes { capacity.memoryBytes = capacityMemoryBytes }
        if let capacityReplicas { capacity.replicaSlots = capacityReplicas }
        guard capacity.cpuMillis > 0, capacity.memoryBytes > 0, capacity.replicaSlots > 0 else {
            CLIOutput.fail("every capacity must be > 0")
        }
        return capacity
    }

    func run() async throws {
        switch logFormat {
        case "text": LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        case "json": LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        default: CLIOutput.fail("--log-format must be text or json, got '\(logFormat)'")
        }
        if let httpPort, httpPort < 0 || httpPort > 65535 {
            CLIOutput.fail("--http-port must be between 0 and 65535, got \(httpPort)")
        }
        guard (0...60_000).contains(queueBudgetMs ?? 0) else {
            CLIOutput.fail("--queue-budget-ms must be between 0 and 60000, got \(queueBudgetMs ?? 0)")
        }
        var logger = Logger(label: "aimass")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let credentials = tls.credentials(host: host)
        if let credentials {
            // New connections get the new certificate; open ones keep theirs.
            let reloadLogger = logger
            HangupSignal.onReceive { credentials.reloadLogged(logger: reloadLogger, reason: "SIGHUP") }
            if tls.reloadCheckMs > 0 {
                _ = credentials.watchFiles(every: .milliseconds(tls.reloadCheckMs), logger: reloadLogger)
            }
            logger.info("serving TLS", metadata: ["serial": "\(credentials.certificateSerial)"])
        }
        let (observability, metricsServer) = try await startObservability(logger: logger)
        switch role {
        case "worker":
            try await runWorker(logger: logger, credentials: credentials, observability: observability)
        case "embedded", "control-plane":
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            guard leaseMs > 0 else { CLIOutput.fail("--lease-ms must be > 0") }
            guard restartGraceMs >= 0 else { CLIOutput.fail("--restart-grace-ms must be >= 0, got \(restartGraceMs)") }
            guard autoscaleStableMs > 0, autoscalePanicMs > 0, autoscalePanicMs <= autoscaleStableMs else {
                CLIOutput.fail(
                    "--autoscale-stable-ms and --autoscale-panic-ms must be > 0 with panic <= stable, got \(autoscaleStableMs) and \(autoscalePanicMs)"
                )
            }
            guard maxArtifactMB > 0, maxArtifactMB <= Int64.max >> 20 else {
                CLIOutput.fail("--max-artifact-mb must be between 1 and \(Int64.max >> 20), got \(maxArtifactMB)")
            }
            var configuration = Platform.Configuration(
                host: host, port: port, dataDirectory: dataDirectory, maxArtifactBytes: maxArtifactMB << 20,
                role: role == "embedded" ? .embedded : .controlPlane,
                scheduler: .init(
                    lease: Double(leaseMs) / 1000, autoscalerStableWindow: Double(autoscaleStableMs) / 1000,
                    autoscalerPanicWindow: Double(autoscalePanicMs) / 1000
                ),
                localWorkerCapacity: capacity(), queueBudget: queueBudget,
                observability: observability
            )
            configuration.scheduler.restartGrace = Double(restartGraceMs) / 1000
            configuration.tls = credentials
            configuration.maxConnections = validatedMaxConnections()
            configuration.artifactDirectory = artifactDirectory
            if let etcd {
                try await runHighlyAvailable(etcd: etcd, configuration: configuration, logger: logger)
                break
            }
            let platform = try await Platform.start(configuration: configuration, logger: logger)
            let grpcPort = platform.address.port ?? port
            CLIOutput.write("aimass listening on \(host):\(grpcPort)\n", to: stdout)
            let console = try await startConsole(grpcPort: grpcPort, credentials: credentials, logger: logger)
            await TerminationSignal.wait(forcedExitAfter: Self.shutdownBound, logger: logger)
            await console?.shutdown()
            await platform.shutdown()
        default:
            CLIOutput.fail("--role must be embedded, control-plane or worker, got '\(role)'")
        }
        await metricsServer?.shutdown()
    }

    /// TLS to the `https://` etcd endpoints from `--etcd-ca-file`, `--etcd-cert-file`, `--etcd-key-file`; exits with
    /// a clear message when they are given for plaintext endpoints only, or a file cannot be used.
    private func etcdTLSConfiguration(_ endpoints: [EtcdEndpoint]) -> ClientTLSConfiguration? {
        let given = etcdCAFile != nil || etcdCertFile != nil || etcdKeyFile != nil
        guard endpoints.contains(where: \.tls) else {
            if given { CLIOutput.fail("--etcd-ca-file, --etcd-cert-file and --etcd-key-file need https:// --etcd endpoints") }
            return nil
        }
        do {
            return try ClientTLSConfiguration(caFile: etcdCAFile, certificateFile: etcdCertFile, keyFile: etcdKeyFile)
        } catch {
            CLIOutput.fail("TLS to etcd: \(error)")
        }
    }

    /// How long a stop may take after SIGTERM or SIGINT before the process exits anyway (a graceful drain takes
    /// seconds; a shutdown stuck on something must not keep a stopped server's process around).
    static let shutdownBound: Duration = .seconds(60)

    /// `--etcd`: a standby until elected, then the leader, until the lease is lost (exits 1) or a signal arrives.
    private func runHighlyAvailable(etcd: String, configuration: Platform.Configuration, logger: Logger) async throws {
        guard role == "control-plane" else { CLIOutput.fail("--etcd needs --role control-plane") }
        guard leaderTTLSeconds >= 2, leaderTTLSeconds <= 3600 else {
            CLIOutput.fail("--leader-ttl-s must be between 2 and 3600, got \(leaderTTLSeconds)")
        }
        guard etcdPrefix.hasPrefix("/"), !etcdPrefix.hasSuffix("/") else {
            CLIOutput.fail("--etcd-prefix must start with / and not end with one, got '\(etcdPrefix)'")
        }
        guard httpPort == nil else { CLIOutput.fail("--http-port does not work with --etcd yet") }
        guard etcdMaxTxnOps >= 3 else { CLIOutput.fail("--etcd-max-txn-ops must be at least 3, got \(etcdMaxTxnOps)") }
        if artifactDirectory == nil {
            logger.warning(
                "--etcd without --artifact-dir: versions uploaded through another control plane cannot be downloaded through this one")
        }
        let endpoints: [EtcdEndpoint]
        do {
            endpoints = try EtcdEndpoint.parseList(etcd)
        } catch {
            CLIOutput.fail("--etcd: \(error)")
        }
        let etcdTLS = etcdTLSConfiguration(endpoints)
        let controlPlane = HighAvailableControlPlane(
            configuration: configuration,
            options: .init(
                endpoints: endpoints, prefix: etcdPrefix, leaseTTLSeconds: leaderTTLSeconds, advertisedAddress: advertise,
                etcdTLS: etcdTLS, maxTxnOps: etcdMaxTxnOps),
            logger: logger)
        let host = self.host
        let running = Task {
            try await controlPlane.run(
                onStandby: { address in
                    CLIOutput.write("aimass standby listening on \(host):\(address.port ?? 0)\n", to: stdout)
                },
                onLeading: { platform in
                    CLIOutput.write("aimass leader listening on \(host):\(platform.address.port ?? 0)\n", to: stdout)
                })
        }
        let signalled = Task {
            await TerminationSignal.wait(forcedExitAfter: Self.shutdownBound, logger: logger)
            running.cancel()
        }
        do {
            try await running.value
            signalled.cancel()
        } catch is CancellationError {
            signalled.cancel()
        } catch {
            signalled.cancel()
            // Losing the lease ends the run this way, and so does any failure to start or keep leading (etcd
            // unreachable, the registry's seed refused): the error says which.
            logger.critical("the control plane stopped leading or standing by; exiting", metadata: ["error": "\(error)"])
            CLIOutput.fail("control plane stopped: \(error)")
        }
    }

    /// Starts the web console when `--http-port` is given; it calls this server's gRPC port over loopback (and a
    /// worker's console the control plane for its read-only views).
    private func startConsole(
        grpcPort: Int, credentials: TLSServerCredentials?, logger: Logger, worker: ConsoleServer.WorkerConsole? = nil
    ) async throws -> ConsoleServer? {
        guard let httpPort else { return nil }
        // A wildcard bind address is reached on loopback; any other is called as given.
        let grpcHost = ["0.0.0.0", ""].contains(host) ? "127.0.0.1" : host == "::" ? "::1" : host
        var configuration = ConsoleServer.Configuration(
            host: host, port: httpPort, grpcHost: grpcHost, grpcPort: grpcPort, worker: worker)
        if let credentials {
            // HTTPS with the listener's certificate, reloaded with it; the gateway calls the gRPC port over TLS,
            // trusting --ca-file (or the system's CAs) and, when clients must present a certificate, presenting
            // --cert-file.
            configuration.tls = .init(credentials: credentials)
            let gateway = joinTLS.configuration(environment: ProcessInfo.processInfo.environment)
            if tls.clientCAFile != nil, joinTLS.certificateFile == nil {
                CLIOutput.fail(
                    "--http-port with --tls-client-ca needs --cert-file and --key-file: the console's gateway presents them to this server")
            }
            do {
                configuration.grpcTLS = try gateway ?? ClientTLSConfiguration()
            } catch {
                CLIOutput.fail("the console's gateway cannot trust the system's CAs: \(error); give --ca-file")
            }
        }
        let console: ConsoleServer
        do {
            console = try await ConsoleServer.start(configuration: configuration, logger: logger)
        } catch {
            CLIOutput.fail("the console cannot listen on \(host):\(httpPort): \(error)")
        }
        let shown = host.contains(":") ? "[\(host)]" : host
        let scheme = configuration.tls == nil ? "http" : "https"
        CLIOutput.write("aimass console on \(scheme)://\(shown):\(console.port)/\n", to: stdout)
        return console
    }

    /// Bootstraps metrics and starts their listener when `--metrics-port` is given (before any server, so that every
    /// metric is made by the exporter), and the access log with `--access-log`.
    private func startObservability(logger: Logger) async throws -> (Observability, MetricsHTTPServer?) {
        var observability = Observability.none
        // First, so that the call's span covers what the other interceptors do.
        if let tracing = tracing.start(serviceName: role == "worker" ? "aimass-worker" : "aimass", logger: logger) {
            observability.interceptors.append(TracingServerInterceptor(tracer: tracing.tracer))
            let batcher = tracing.batcher
            // Exports for the life of the process (a span ended in the last fraction of a second may be lost).
            Task.detached { await batcher.run() }
        }
        if accessLog {
            var accessLogger = Logger(label: "aimass.access")
            accessLogger.logLevel = .info
            observability.interceptors.append(
                AccessLogInterceptor(logger: accessLogger) { token in
                    (try? SHA256Hasher.hex(of: token.utf8)).map { String($0.prefix(16)) }
                }
            )
        }
        guard let metricsPort else { return (observability, nil) }
        guard metricsPort >= 0, metricsPort < 65536 else {
            CLIOutput.fail("--metrics-port must be between 0 and 65535, got \(metricsPort)")
        }
        let exporter = PrometheusExporter()
        MetricsSystem.bootstrap(exporter)
        ClientMetrics.install(GRPCClientMetrics())
        observability.metrics = GRPCServerMetrics()
        let abuse = HTTP2AbuseMetrics()
        observability.watchAbuseCounters = { abuse.watch($0) }
        let server = MetricsHTTPServer(host: host, port: metricsPort, logger: logger) {
            abuse.update()  // the servers' own totals, read when scraped
            return exporter.render()
        }
        let boundPort: Int?
        do {
            boundPort = try await server.start().port
        } catch {
            CLIOutput.fail("cannot serve metrics on \(host):\(metricsPort): \(error)")
        }
        CLIOutput.write("aimass metrics on http://\(host):\(boundPort ?? metricsPort)/metrics\n", to: stdout)
        return (observability, server)
    }

    private func runWorker(
        logger: Logger, credentials: TLSServerCredentials?, observability: Observability
    ) async throws {
        let planes = (join ?? "").split(separator: ",").map { part -> (host: String, port: Int) in
            guard let colon = part.lastIndex(of: ":"), let port = Int(part[part.index(after: colon)...]), port > 0,
                port < 65536, colon != part.startIndex
            else {
                CLIOutput.fail("--role worker needs --join HOST:PORT[,HOST:PORT...], got '\(part)'")
            }
            return (String(part[..<colon]), port)
        }
        guard let first = planes.first else { CLIOutput.fail("--role worker needs --join HOST:PORT") }
        let environment = ProcessInfo.processInfo.environment
        guard let token = token ?? environment["AIMASS_TOKEN"], !token.isEmpty else {
            CLIOutput.fail("--role worker needs --token (an admin token) or $AIMASS_TOKEN")
        }
        guard keepaliveMs >= 0 else { CLIOutput.fail("--keepalive-ms must be >= 0, got \(keepaliveMs)") }
        let keepalive = keepaliveMs == 0
            ? nil : ClientConfiguration.Keepalive(interval: .milliseconds(keepaliveMs), timeout: .milliseconds(keepaliveMs))
        var configuration = WorkerServer.Configuration(
            host: host, port: port, controlPlaneHost: first.host, controlPlanePort: first.port,
            capacity: capacity(), token: token, queueBudget: queueBudget, keepalive: keepalive,
            observability: observability
        )
        configuration.tls = credentials
        configuration.maxConnections = validatedMaxConnections()
        configuration.controlPlaneTLS = joinTLS.configuration(environment: environment)
        configuration.otherControlPlanes = Array(planes.dropFirst())
        let worker = try await WorkerServer.start(configuration: configuration, logger: logger)
        let workerPort = worker.address.port ?? port
        CLIOutput.write("aimass worker listening on \(host):\(workerPort)\n", to: stdout)
        // The worker's console: read-only views read from the control plane, "try it" served here.
        let console = try await startConsole(
            grpcPort: workerPort, credentials: credentials, logger: logger,
            worker: .init(
                address: "\(host):\(workerPort)", controlPlaneHost: configuration.controlPlaneHost,
                controlPlanePort: configuration.controlPlanePort, controlPlaneTLS: configuration.controlPlaneTLS))
        await TerminationSignal.wait(forcedExitAfter: Self.shutdownBound, logger: logger)
        await console?.shutdown()
        await worker.shutdown()
    }
}
