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
/// continues the same revisions and history) and its registry metadata there too (``EtcdRegistryReplication``).
/// Every control plane keeps its own data directory, whose registry is a replica of etcd's rows
/// (``RegistryReplica``), current while it stands by and reloaded when it wins; artifacts are in a directory all of
/// them share (`--artifact-dir`). Losing the lease ends ``run(onLeading:)`` with an error, so the process exits
/// rather than lead twice (a supervisor restarts it as a standby).
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
        /// etcd's `--max-txn-ops`: the most rows one registry transaction may change (default 128, etcd's default).
        public var maxTxnOps: Int

        public init(
            endpoints: [EtcdEndpoint], prefix: String = "/aimass", leaseTTLSeconds: Int64 = 10,
            advertisedAddress: String? = nil, etcdTLS: ClientTLSConfiguration? = nil, maxTxnOps: Int = 128
        ) {
            self.maxTxnOps = maxTxnOps
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
        // The local replica of the registry; artifacts are in a directory other control planes write too, so this
        // one never sweeps it, and the admin user comes from etcd (or from the seed, if this one seeds it).
        let registry = try ModelRegistry.open(
            dataDirectory: configuration.dataDirectory,
            configuration: .defaults {
                $0.maxArtifactBytes = configuration.maxArtifactBytes
                $0.artifactDirectory = configuration.artifactDirectory
                $0.sweepsArtifacts = false
                $0.createAdminUser = false
            },
            logger: logger)
        do {
            try registry.markReplica(of: options.prefix)
        } catch {
            registry.close()
            throw error
        }
        let replica = RegistryReplica(etcd: etcd, prefix: options.prefix, registry: registry, logger: logger)
        let standby = StandbyServer(
            configuration: .defaults {
                $0.host = configuration.host
                $0.port = configuration.port
                $0.tls = configuration.tls
            },
            replica: registry, logger: logger)
        let following = Task { await replica.keepCurrent { standby.replicaLoaded() } }
        let bound: SocketAddress
        do {
            bound = try await standby.start()
        } catch {
            following.cancel()
            registry.close()
            throw error
        }
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
                following.cancel()
                await following.value
                // Every write of the previous leader has a lower revision than this one's leader key: read now,
                // the replica has them all. An unseeded prefix is seeded from this data directory.
                if try await replica.resync() == nil {
                    try await replica.seed(fence: fence, maxTxnOps: options.maxTxnOps)
                }
                registry.setReplication(
                    EtcdRegistryReplication(
                        etcd: etcd, prefix: options.prefix, fence: fence, maxTxnOps: options.maxTxnOps, logger: logger,
                        onFenced: { [logger] in
                            logger.critical("a fenced registry write failed: another control plane leads; stepping down")
                            campaign.cancel()
                        },
                        onApplied: { _ = try await replica.resync() }))
                await standby.shutdown()
                var leading = configuration
                leading.port = port
                leading.registry = registry
                leading.desiredStateStore = EtcdDesiredStateStore(
                    etcd: etcd, prefix: options.prefix, fence: fence
                ) { [logger] in
                    logger.critical("a fenced write failed: another control plane leads; stepping down")
                    campaign.cancel()
                }
                leading.meshJournal = EtcdMeshJournal(etcd: etcd, prefix: options.prefix, fence: fence, logger: logger) {
                    campaign.cancel()
                }
                let started = try await Platform.start(configuration: leading, logger: logger)
                platform = started
                await onLeading(started)
                // Leads until the lease is lost (the campaign throws) or this task is cancelled.
                try await campaign.value
            } onCancel: {
                campaign.cancel()
                wonContinuation.finish()
            }
        } catch {
            following.cancel()
            await platform?.shutdown(gracePeriod: .seconds(1))
            if platform == nil { registry.close() }
            throw error
        }
        following.cancel()
        await platform?.shutdown()
        if platform == nil {
            await standby.shutdown()
            registry.close()
        }
        _ = try? await campaign.value
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
