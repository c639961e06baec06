import AIMassEtcd
import Logging
import ModelRegistry
import NIOCore
import RPCHTTP2

/// A control plane among several on one etcd cluster (`aimass serve --role control-plane --etcd URL,...`).
///
/// It campaigns for leadership on an etcd lease (``LeaderElection``). Until it wins it serves as a standby on its
/// port (every call answered `UNAVAILABLE` with the leader's address in `aimass-leader`); once it wins it starts the
/// whole ``Platform`` on the same port with its desired state in etcd (``EtcdDesiredStateStore``, every write
/// fenced by its leadership), its Mesh recorded there as it is published (``EtcdMeshJournal``: the next leader
/// continues the same revisions and history) and the registry in the shared data directory. Losing the lease ends ``run(onLeading:)``
/// with an error, so the process exits rather than lead twice (a supervisor restarts it as a standby).
public struct HighAvailableControlPlane: Sendable {
    /// How to reach etcd and what to elect on.
    public struct Options: Sendable {
        /// The etcd members.
        public var endpoints: [EtcdEndpoint]
        /// The prefix of every key (`PREFIX/leader`, `PREFIX/state/...`); control planes of one cluster share it.
        public var prefix: String
        /// The leader lease's TTL in seconds: a leader that dies is replaced after at most this long.
        public var leaseTTLSeconds: Int64
        /// The address the others and the clients reach this control plane at; nil: the listening host and port.
        public var advertisedAddress: String?
        /// TLS to the `https://` endpoints (CA, and a client certificate when etcd requires one).
        public var etcdTLS: ClientTLSConfiguration?

        public init(
            endpoints: [EtcdEndpoint], prefix: String = "/aimass", leaseTTLSeconds: Int64 = 10,
            advertisedAddress: String? = nil, etcdTLS: ClientTLSConfiguration? = nil
        ) {
            self.endpoints = endpoints
            self.prefix = prefix
            self.leaseTTLSeconds = leaseTTLSeconds
            self.advertisedAddress = advertisedAddress
            self.etcdTLS = etcdTLS
        }
    }

    public let configuration: Platform.Configuration
    public let options: Options
    private let logger: Logger

    public init(configuration: Platform.Configuration, options: Options, logger: Logger = Logger(label: "aimass.ha")) {
        self.configuration = configuration
        self.options = options
        self.logger = logger
    }

    /// Serves as a standby, then as the leader. `onStandby` gets the bound address once listening; `onLeading` the
    /// platform once it leads. Returns when cancelled (after shutting the platform down); throws when leadership is
    /// lost or the platform cannot start.
    public func run(
        onStandby: @escaping @Sendable (SocketAddress) -> Void = { _ in },
        onLeading: @escaping @Sendable (Platform) async -> Void = { _ in }
    ) async throws {
        let etcd = EtcdClient(endpoints: options.endpoints, tls: options.etcdTLS, logger: logger)
        let warm = etcd.keepConnectionsWarm()
        defer {
            warm.cancel()
            Task { await etcd.close() }
        }
        let standby = StandbyServer(
            configuration: .defaults {
                $0.host = configuration.host
                $0.port = configuration.port
                $0.tls = configuration.tls
            },
            logger: logger)
        let bound = try await standby.start()
        let port = bound.port ?? configuration.port
        onStandby(bound)
        let advertised = options.advertisedAddress ?? "\(Self.reachableHost(configuration.host)):\(port)"
        let election = LeaderElection(
            etcd: etcd, prefix: options.prefix, address: advertised, ttlSeconds: options.leaseTTLSeconds, logger: logger)
        let (won, wonContinuation) = AsyncStream.makeStream(of: LeaderElection.Fence.self)
        let campaign = Task {
            try await election.run { role in
                switch role {
                case .follower(let leader): standby.setLeader(leader)
                case .leader(let fence): wonContinuation.yield(fence)
                }
            }
        }
        var platform: Platform?
        do {
            try await withTaskCancellationHandler {
                var iterator = won.makeAsyncIterator()
                guard let fence = await iterator.next() else { return }
                await standby.shutdown()
                var leading = configuration
                leading.port = port
                leading.desiredStateStore = EtcdDesiredStateStore(
                    etcd: etcd, prefix: options.prefix, fence: fence
                ) { [logger] in
                    logger.critical("a fenced write failed: another control plane leads; stepping down")
                    campaign.cancel()
                }
                leading.meshJournal = EtcdMeshJournal(etcd: etcd, prefix: options.prefix, fence: fence, logger: logger) {
                    campaign.cancel()
                }
                let started = try await startPlatform(leading)
                platform = started
                await onLeading(started)
                // Leads until the lease is lost (the campaign throws) or this task is cancelled.
                try await campaign.value
            } onCancel: {
                campaign.cancel()
                wonContinuation.finish()
            }
        } catch {
            await platform?.shutdown(gracePeriod: .seconds(1))
            throw error
        }
        await platform?.shutdown()
        if platform == nil { await standby.shutdown() }
        _ = try? await campaign.value
    }

    /// Starts the platform; the data directory's lock may still be held for a moment by the previous leader on this
    /// machine, so a held lock is retried for one lease TTL.
    private func startPlatform(_ configuration: Platform.Configuration) async throws -> Platform {
        let deadline = ContinuousClock.now + .seconds(options.leaseTTLSeconds)
        while true {
            do {
                return try await Platform.start(configuration: configuration, logger: logger)
            } catch let error as RegistryError where error.code == .failedPrecondition && ContinuousClock.now < deadline {
                logger.info("data directory still locked; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The host others dial for a bind address (a wildcard is reached on loopback).
    static func reachableHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "::1"
        default: host
        }
    }
}
