import EtcdAPI
import Logging
import RPCCore
import RPCHTTP2
import Synchronization

/// A client of an etcd cluster's v3 gRPC API over our own ``RPCClient``: KV (Range, Put, DeleteRange, Txn), Lease
/// (Grant, KeepAlive, Revoke) and Watch (``watch(prefix:fromRevision:)``).
///
/// Every call goes to the endpoint that answered last; when it fails with `UNAVAILABLE` (the member is down, cut
/// off from its quorum, or the connection dropped) or its deadline passes, the same call is tried on the next
/// endpoint, once per endpoint. A call whose outcome is unknown may so be applied twice: every write this project
/// makes is idempotent (a put of the same value, a transaction guarded by a comparison).
///
/// ```swift
/// let etcd = try EtcdClient(endpoints: EtcdEndpoint.parseList("http://127.0.0.1:2379,http://127.0.0.1:22379"))
/// _ = try await etcd.put(Array("greeting".utf8), value: Array("hello".utf8))
/// let found = try await etcd.range(Array("greeting".utf8))
/// ```
public final class EtcdClient: Sendable {
    /// The cluster's members, in the order given.
    public let endpoints: [EtcdEndpoint]
    private let clients: [RPCClient]
    private let current = Mutex(0)
    private let timeout: Duration
    let logger: Logger

    /// - Parameters:
    ///   - endpoints: The members to try, in order (at least one).
    ///   - tls: How the `https://` endpoints are reached (the CA that signs the members' certificates, and a client
    ///     certificate when etcd runs with `--client-cert-auth`); `http://` endpoints stay plaintext.
    ///   - timeout: The deadline of each attempt of a unary call.
    public init(
        endpoints: [EtcdEndpoint], tls: ClientTLSConfiguration? = nil, timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "aimass.etcd")
    ) {
        precondition(!endpoints.isEmpty, "EtcdClient needs at least one endpoint")
        self.endpoints = endpoints
        self.timeout = timeout
        self.logger = logger
        self.clients = endpoints.map { endpoint in
            RPCClient(
                host: endpoint.host, port: endpoint.port,
                configuration: .defaults {
                    $0.eventLoopThreads = 1
                    $0.initialBackoff = .milliseconds(100)
                    $0.maxBackoff = .seconds(1)
                    $0.connectTimeout = .seconds(2)
                    // A member that goes silent (no RST) is noticed within seconds, not at TCP's timeout.
                    $0.keepalive = .init(interval: .seconds(2), timeout: .seconds(2), permitWithoutCalls: false)
                    // Without a configuration an https:// member is checked against the system's CAs (no files to fail).
                    if endpoint.tls { $0.tls = tls ?? (try? ClientTLSConfiguration()) }
                })
        }
    }

    /// Closes every connection.
    public func close() async {
        for client in clients { await client.close() }
    }

    // MARK: KV

    /// The keys from `key` up to `rangeEnd` (exclusive; empty: `key` alone), at the newest revision.
    public func range(_ key: [UInt8], rangeEnd: [UInt8] = []) async throws -> RangeResponse {
        try await unary(KVMethods.range, RangeRequest(key: key, rangeEnd: rangeEnd))
    }

    /// A range as `request` describes it (a limit, a past revision, …).
    public func range(_ request: RangeRequest) async throws -> RangeResponse {
        try await unary(KVMethods.range, request)
    }

    /// Every key that starts with `prefix`.
    public func range(prefix: [UInt8]) async throws -> RangeResponse {
        try await range(prefix, rangeEnd: Self.prefixEnd(prefix))
    }

    /// Puts `value` at `key`, attached to `lease` (0: none).
    @discardableResult
    public func put(_ key: [UInt8], value: [UInt8], lease: Int64 = 0) async throws -> PutResponse {
        try await unary(KVMethods.put, PutRequest(key: key, value: value, lease: lease))
    }

    /// Deletes the keys from `key` up to `rangeEnd` (empty: `key` alone).
    @discardableResult
    public func deleteRange(_ key: [UInt8], rangeEnd: [UInt8] = []) async throws -> DeleteRangeResponse {
        try await unary(KVMethods.deleteRange, DeleteRangeRequest(key: key, rangeEnd: rangeEnd))
    }

    /// Runs a transaction: `success` when every comparison holds, else `failure`, atomically.
    public func txn(_ request: TxnRequest) async throws -> TxnResponse {
        try await unary(KVMethods.txn, request)
    }

    // MARK: Lease

    /// Grants a lease of `ttlSeconds`; returns its id and the TTL etcd granted.
    public func grantLease(ttlSeconds: Int64) async throws -> (id: Int64, ttl: Int64) {
        let response: LeaseGrantResponse = try await unary(LeaseMethods.leaseGrant, LeaseGrantRequest(ttl: ttlSeconds))
        guard response.error.isEmpty else { throw RPCError(code: .unavailable, message: "etcd lease grant: \(response.error)") }
        return (response.id, response.ttl)
    }

    /// Keeps lease `id` alive once (one request on a `LeaseKeepAlive` stream); returns the TTL it has again.
    ///
    /// - Throws: ``EtcdError/leaseLost(id:)`` when the lease has already expired or been revoked.
    public func keepAlive(lease id: Int64) async throws -> Int64 {
        let response: LeaseKeepAliveResponse = try await withFailover { client in
            let call: ClientCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> = try await client.makeCall(
                LeaseMethods.leaseKeepAlive, options: CallOptions(timeout: self.timeout))
            defer { call.cancel() }
            try await call.send(LeaseKeepAliveRequest(id: id))
            call.finishSending()
            guard let response = try await call.next() else {
                throw RPCError(code: .unavailable, message: "etcd ended LeaseKeepAlive without an answer")
            }
            return response
        }
        guard response.ttl > 0 else { throw EtcdError.leaseLost(id: id) }
        return response.ttl
    }

    /// Revokes lease `id`: the keys attached to it are deleted at once.
    public func revokeLease(_ id: Int64) async throws {
        let _: LeaseRevokeResponse = try await unary(LeaseMethods.leaseRevoke, LeaseRevokeRequest(id: id))
    }

    // MARK: Connections

    /// Keeps a connection to every member open (a `Maintenance/Status` call to each, every `interval`), so that a
    /// failover finds the next member's connection made: a call made while the caller blocks a thread (a store
    /// under a lock) then never waits for a connection to be opened.
    public func keepConnectionsWarm(every interval: Duration = .seconds(2)) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                for client in clients {
                    let _: StatusResponse? = try? await client.unary(
                        MaintenanceMethods.status, request: StatusRequest(), options: CallOptions(timeout: interval))
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    // MARK: Calls with failover

    func unary<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor, _ request: Request
    ) async throws -> Response {
        try await withFailover { client in
            try await client.unary(method, request: request, options: CallOptions(timeout: self.timeout))
        }
    }

    /// Runs `body` on the current endpoint's client, and on each next one while it fails with a status that says
    /// the member (not the request) is the problem.
    func withFailover<T: Sendable>(_ body: (RPCClient) async throws -> T) async throws -> T {
        let start = current.withLock { $0 }
        var lastError: (any Error)?
        for attempt in 0..<clients.count {
            let index = (start + attempt) % clients.count
            do {
                let result = try await body(clients[index])
                if attempt > 0 {
                    current.withLock { $0 = index }
                    logger.info("etcd endpoint failed over", metadata: ["endpoint": "\(endpoints[index])"])
                }
                return result
            } catch {
                guard Self.isMemberFailure(error) else { throw error }
                lastError = error
                logger.debug("etcd endpoint failed", metadata: ["endpoint": "\(endpoints[index])", "error": "\(error)"])
            }
        }
        current.withLock { $0 = (start + 1) % clients.count }
        throw EtcdError.unavailable("\(lastError.map { "\($0)" } ?? "no endpoint")")
    }

    /// The index of the endpoint calls go to first (for watches that pick up where a call succeeded).
    var currentIndex: Int { current.withLock { $0 } }

    func client(at index: Int) -> RPCClient { clients[index % clients.count] }

    /// Whether `error` says the member is down or cut off (try another) rather than that the request is wrong.
    static func isMemberFailure(_ error: any Error) -> Bool {
        if error is CancellationError { return false }
        switch RPCError(mapping: error).code {
        case .unavailable, .deadlineExceeded, .unknown, .internalError, .cancelled: return true
        default: return false
        }
    }

    /// The `range_end` that makes a range of every key starting with `prefix` (etcd's rule: the prefix with its
    /// last byte below 0xff incremented; all 0xff: every key, `\0`).
    public static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }
}
