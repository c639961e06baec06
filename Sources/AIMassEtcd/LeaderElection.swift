import EtcdAPI
import Logging
import RPCCore
import Synchronization

/// Leader election on an etcd lease, as etcd's own `concurrency.Election` does it: the first process to create the
/// key `PREFIX/leader` (attached to its lease, holding its address) leads; the others watch that key and campaign
/// again when it is deleted (the leader resigned, or its lease expired after the leader stopped keeping it alive).
///
/// The leader keeps the lease alive every TTL/3 and considers itself deposed once ``LeaseClock`` says etcd may have
/// expired it; writes made on its behalf are guarded by ``fence`` (the leader key's creation revision), so a deposed
/// leader that did not notice yet cannot write.
public final class LeaderElection: Sendable {
    /// What the election tells its owner.
    public enum Role: Sendable, Equatable {
        /// Another process leads; its address (empty when unknown).
        case follower(leader: String)
        /// This process leads; writes must be guarded by `fence`.
        case leader(fence: Fence)
    }

    /// The guard of the leader's writes: its key still exists with the creation revision it had when won.
    public struct Fence: Sendable, Equatable {
        /// The leader key.
        public var key: [UInt8]
        /// Its creation revision when this process won.
        public var createRevision: Int64
        /// The lease the key is attached to.
        public var lease: Int64

        /// Creates a fence.
        public init(key: [UInt8], createRevision: Int64, lease: Int64) {
            self.key = key
            self.createRevision = createRevision
            self.lease = lease
        }

        /// The comparison to put first in every guarded transaction.
        public var compare: Compare {
            Compare(result: .equal, target: .create, key: key, targetUnion: .createRevision(createRevision))
        }
    }

    /// The etcd client.
    public let etcd: EtcdClient
    /// The leader key (`PREFIX/leader`).
    public let key: [UInt8]
    /// What this process writes as the leader's value: the address clients reach it at.
    public let address: String
    /// The lease's TTL in seconds.
    public let ttlSeconds: Int64
    private let logger: Logger

    public init(
        etcd: EtcdClient, prefix: String, address: String, ttlSeconds: Int64 = 10,
        logger: Logger = Logger(label: "aimass.election")
    ) {
        self.etcd = etcd
        self.key = Array((prefix + "/leader").utf8)
        self.address = address
        self.ttlSeconds = max(2, ttlSeconds)
        self.logger = logger
    }

    /// Campaigns until this process leads, then keeps the lease alive until it is lost.
    ///
    /// `onRole` is called with each change of role (follower with the leader's address, then leader once). The call
    /// returns, throwing ``EtcdError/leaseLost(id:)``, when leadership is lost; it never returns otherwise until the
    /// task is cancelled (then it resigns: the lease is revoked so another process takes over at once).
    public func run(onRole: @escaping @Sendable (Role) async -> Void) async throws {
        let granted = try await grant()
        let clock = SharedLeaseClock(granted.clock)
        let lease = granted.id
        logger.info("etcd lease granted", metadata: ["lease": "\(String(lease, radix: 16))", "ttl_s": "\(ttlSeconds)"])
        defer {
            // Resign: the lease (and the leader key on it) goes now, not a TTL later. Detached: this task may be
            // cancelled already.
            let etcd = self.etcd
            Task.detached { try? await etcd.revokeLease(lease) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.keepAlive(lease: lease, clock: clock) }
            group.addTask {
                let fence = try await self.campaign(lease: lease, onRole: onRole)
                await onRole(.leader(fence: fence))
                // Leading now: nothing more to do until the lease is lost (the keep-alive task throws).
                while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
            }
            do {
                _ = try await group.next()
                group.cancelAll()
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    private func grant() async throws -> (id: Int64, clock: LeaseClock) {
        var backoff = 0.2
        while true {
            let sentAt = MonotonicSeconds.now()
            do {
                let granted = try await etcd.grantLease(ttlSeconds: ttlSeconds)
                return (granted.id, LeaseClock(ttl: Double(granted.ttl), grantedAt: sentAt))
            } catch {
                logger.warning("cannot grant an etcd lease; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
                backoff = min(backoff * 2, 2)
            }
        }
    }

    /// Keeps `lease` alive every TTL/3; throws ``EtcdError/leaseLost(id:)`` once it expired or may have.
    private func keepAlive(lease: Int64, clock: SharedLeaseClock) async throws {
        while true {
            let (interval, deadline) = clock.state.withLock { ($0.keepAliveInterval, $0.validUntil) }
            let now = MonotonicSeconds.now()
            guard now < deadline else { throw EtcdError.leaseLost(id: lease) }
            try await Task.sleep(for: .milliseconds(Int64(min(interval, deadline - now) * 1000)))
            let sentAt = MonotonicSeconds.now()
            do {
                _ = try await etcd.keepAlive(lease: lease)
                clock.state.withLock { $0.renewed(sentAt: sentAt) }
            } catch let error as EtcdError {
                if case .leaseLost = error { throw error }
                logger.warning("etcd keep-alive failed", metadata: ["error": "\(error)"])
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("etcd keep-alive failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Tries to create the leader key; while another process holds it, follows it and waits for its deletion.
    private func campaign(lease: Int64, onRole: @Sendable (Role) async -> Void) async throws -> Fence {
        var lastLeader: String?
        while true {
            try Task.checkCancellation()
            let response: TxnResponse
            do {
                response = try await etcd.txn(
                    TxnRequest(
                        compare: [Compare(result: .equal, target: .create, key: key, targetUnion: .createRevision(0))],
                        success: [RequestOp(request: .requestPut(PutRequest(key: key, value: Array(address.utf8), lease: lease)))],
                        failure: [RequestOp(request: .requestRange(RangeRequest(key: key)))]
                    ))
            } catch {
                logger.warning("etcd campaign failed; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .milliseconds(500))
                continue
            }
            let revision = response.header?.revision ?? 0
            if response.succeeded {
                logger.info("elected leader", metadata: ["revision": "\(revision)"])
                return Fence(key: key, createRevision: revision, lease: lease)
            }
            guard case .responseRange(let range)? = response.responses.first?.response, let holder = range.kvs.first
            else { continue }  // deleted between the comparison and the read: campaign again
            if holder.lease == lease {
                // Ours from an earlier attempt whose answer was lost.
                return Fence(key: key, createRevision: holder.createRevision, lease: lease)
            }
            let leader = String(decoding: holder.value, as: UTF8.self)
            if leader != lastLeader {
                lastLeader = leader
                logger.info("following the leader", metadata: ["leader": "\(leader)"])
                await onRole(.follower(leader: leader))
            }
            try await waitForDeletion(after: holder.modRevision)
        }
    }

    /// Returns once the leader key is deleted (or the watch fails: campaigning again finds out).
    private func waitForDeletion(after revision: Int64) async throws {
        do {
            for try await batch in etcd.watch(prefix: key, fromRevision: revision + 1) {
                if batch.events.contains(where: { $0.type == .delete && $0.kv?.key == key }) { return }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.info("leader watch ended; campaigning again", metadata: ["error": "\(error)"])
        }
    }
}

/// The lease clock shared by the keep-alive loop and its readers.
final class SharedLeaseClock: Sendable {
    let state: Mutex<LeaseClock>

    init(_ clock: LeaseClock) {
        state = Mutex(clock)
    }
}

/// Seconds on a monotonic clock (``LeaseClock``'s time).
enum MonotonicSeconds {
    static let origin = ContinuousClock.now

    static func now() -> Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
