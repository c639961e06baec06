import AIMassAPI
import RPCCore
import RPCHTTP2
import Synchronization

/// Authorizes inference calls on a worker: the caller's token must be able to read the model.
///
/// First from the ``WorkerGrants`` the control plane pushes down the Join stream: a token, model and alias they
/// list are decided locally, with no round trip, whether the control plane is up or not. Revocation bound: the
/// control plane pushes a change within 200 ms (``AccessGrantsPublisher``); a worker cut off from it keeps the
/// rules it had until it rejoins (and gets the current ones right after its Welcome).
///
/// What the rules do not list (none received yet, or a token, model or alias created since the last push) is asked
/// of the control plane: `ModelRegistry/GetModel` (or `GetVersion` for an alias) under the caller's token. Those
/// answers (allowed, a version, or a definite NOT_FOUND / PERMISSION_DENIED / UNAUTHENTICATED) are cached per
/// (token, model[, alias]) for ``ttl``. Before any rules arrived (a control plane that sends none), an answer older
/// than ``ttl`` is still used while a refresh runs in the background (one at a time per key, one attempt per
/// ``retryInterval`` while the control plane does not answer), for at most ``maxStaleness``.
final class ControlPlaneAuthorizer: Sendable {
    private struct Key: Hashable {
        var authorization: String
        var model: String
        /// The alias resolved; empty for the access answer.
        var alias = ""
    }
    private struct Answer {
        var error: RPCError?
        /// The version an alias points at (nil for the access answer).
        var version: UInt32?
        /// When the control plane gave this answer.
        var confirmed: ContinuousClock.Instant
        /// A background refresh is running.
        var refreshing = false
        /// No refresh before this (after a failed one).
        var nextAttempt: ContinuousClock.Instant
    }
    /// What a lookup found: an answer to use now, and whether to refresh it in the background.
    private struct Found {
        var answer: Answer
        var refresh: Bool
    }

    /// The client of the control plane to ask: the one the worker is joined to (the leader, with several).
    let client: @Sendable () -> RPCClient
    /// The rules pushed by the control plane, consulted first.
    let grants: WorkerGrants
    /// How long an answer is used without asking again.
    let ttl: Duration
    /// How long an answer is used while the control plane does not answer.
    let maxStaleness: Duration
    /// The pause between background refreshes that failed.
    let retryInterval: Duration
    private let cache = Mutex<[Key: Answer]>([:])

    /// - Parameters:
    ///   - ttl: How long an answer is used before it is refreshed (in the background).
    ///   - maxStaleness: The longest an answer is used without the control plane confirming it.
    ///   - retryInterval: The pause between failed background refreshes of one answer.
    init(
        client: @escaping @Sendable () -> RPCClient, grants: WorkerGrants = WorkerGrants(), ttl: Duration = .seconds(5),
        maxStaleness: Duration = .seconds(900), retryInterval: Duration = .seconds(1)
    ) {
        self.client = client
        self.grants = grants
        self.ttl = ttl
        self.maxStaleness = max(maxStaleness, ttl)
        self.retryInterval = retryInterval
    }

    /// The cached answer, without waiting: true when the caller may read `model`, false when nothing usable is cached
    /// (ask ``authorize(model:context:)``); throws the cached refusal.
    func cachedAuthorization(model: String, context: ServerContext) throws(RPCError) -> Bool {
        let header = try Self.authorization(context)
        switch grants.decide(authorization: header, model: model, alias: nil) {
        case .allowed: return true
        case .denied(let error): throw error
        case .unknown: break
        }
        guard let answer = usable(Key(authorization: header, model: model)) else { return false }
        if let error = answer.error { throw error }
        return true
    }

    /// Returns when the caller may read `model`; throws the status to answer with otherwise.
    func authorize(model: String, context: ServerContext) async throws {
        let header = try Self.authorization(context)
        switch grants.decide(authorization: header, model: model, alias: nil) {
        case .allowed:
            context.markAuthenticated()
            return
        case .denied(let error): throw error
        case .unknown: break
        }
        let key = Key(authorization: header, model: model)
        let answer = try await answer(key)
        if let error = answer.error { throw error }
        context.markAuthenticated()
    }

    /// The cached version `alias` of `model` points at for this caller, without waiting: nil when nothing usable is
    /// cached (ask ``resolve(model:alias:context:)``); throws the cached refusal.
    func cachedVersion(model: String, alias: String, context: ServerContext) throws(RPCError) -> UInt32? {
        let header = try Self.authorization(context)
        switch grants.decide(authorization: header, model: model, alias: alias) {
        case .allowed(let version):
            context.markAuthenticated()
            return version
        case .denied(let error): throw error
        case .unknown: break
        }
        guard let answer = usable(Key(authorization: header, model: model, alias: alias)) else { return nil }
        if let error = answer.error { throw error }
        context.markAuthenticated()
        return answer.version
    }

    /// The version `alias` of `model` points at, asked of the control plane under the caller's token (which also
    /// checks that the caller may read the model); throws the status to answer with otherwise.
    func resolve(model: String, alias: String, context: ServerContext) async throws -> UInt32 {
        let header = try Self.authorization(context)
        switch grants.decide(authorization: header, model: model, alias: alias) {
        case .allowed(let version):
            context.markAuthenticated()
            return version ?? 0
        case .denied(let error): throw error
        case .unknown: break
        }
        let answer = try await answer(Key(authorization: header, model: model, alias: alias))
        if let error = answer.error { throw error }
        context.markAuthenticated()
        return answer.version ?? 0
    }

    // MARK: Cache

    /// A usable answer (fresh, or stale within ``maxStaleness``), starting a background refresh when it is stale.
    private func usable(_ key: Key) -> Answer? {
        guard let found = lookup(key, now: .now) else { return nil }
        if found.refresh {
            Task { [self] in await refresh(key) }
        }
        return found.answer
    }

    /// A usable answer, or one fetched from the control plane now.
    private func answer(_ key: Key) async throws -> Answer {
        if let answer = usable(key) { return answer }
        let answer = try await fetch(key)
        store(answer, for: key)
        return answer
    }

    private func refresh(_ key: Key) async {
        do {
            store(try await fetch(key), for: key)
        } catch {
            // The control plane did not answer: keep serving the last answer, try again later.
            let retry = ContinuousClock.now + retryInterval
            cache.withLock { cache in
                cache[key]?.refreshing = false
                cache[key]?.nextAttempt = retry
            }
        }
    }

    /// Asks the control plane; a definite refusal is an answer, anything else throws `UNAVAILABLE`.
    private func fetch(_ key: Key) async throws -> Answer {
        let now = ContinuousClock.now
        var answer = Answer(error: nil, version: nil, confirmed: now, nextAttempt: now)
        let options = CallOptions(timeout: .seconds(5), metadata: ["authorization": .string(key.authorization)])
        let client = self.client()
        if key.alias.isEmpty {
            do {
                let _: Model = try await client.unary(
                    ModelRegistryMethods.getModel, request: GetModelRequest(name: key.model), options: options
                )
            } catch let failure as RPCError where [.notFound, .permissionDenied, .unauthenticated].contains(failure.code) {
                answer.error = RPCError(code: failure.code, message: failure.message)
            } catch let failure as RPCError where failure.code == .resourceExhausted {
                throw failure  // the caller's token over its quota there: its answer (with retry-after-ms), not cached
            } catch {
                throw RPCError(code: .unavailable, message: "cannot check access with the control plane: \(error)")
            }
            return answer
        }
        do {
            let version: Version = try await client.unary(
                ModelRegistryMethods.getVersion,
                request: GetVersionRequest(model: key.model, version: VersionSelector(alias: key.alias)), options: options
            )
            answer.version = version.number
        } catch let failure as RPCError
            where [.notFound, .permissionDenied, .unauthenticated, .invalidArgument].contains(failure.code)
        {
            answer.error = RPCError(code: failure.code, message: failure.message)
        } catch let failure as RPCError where failure.code == .resourceExhausted {
            throw failure
        } catch {
            throw RPCError(
                code: .unavailable,
                message: "cannot resolve alias '\(key.alias)' of model '\(key.model)' with the control plane: \(error)"
            )
        }
        return answer
    }

    private func store(_ answer: Answer, for key: Key) {
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[key] = answer
        }
    }

    private static func authorization(_ context: ServerContext) throws(RPCError) -> String {
        guard let header = context.requestMetadata.firstString(forKey: "authorization"), !header.isEmpty else {
            throw RPCError(code: .unauthenticated, message: "missing authorization metadata: send 'Bearer <token>'")
        }
        return header
    }

    /// The cached answer if still usable, and whether the caller should refresh it (marked as refreshing).
    private func lookup(_ key: Key, now: ContinuousClock.Instant) -> Found? {
        cache.withLock { cache -> Found? in
            guard var answer = cache[key] else { return nil }
            let age = answer.confirmed.duration(to: now)
            // With pushed rules, only fresh answers: a stale "allowed" could outlive a revocation they carry.
            if age >= maxStaleness || (age >= ttl && grants.isLoaded) {
                cache[key] = nil
                return nil
            }
            guard age >= ttl, !answer.refreshing, now >= answer.nextAttempt else { return Found(answer: answer, refresh: false) }
            answer.refreshing = true
            cache[key] = answer
            return Found(answer: answer, refresh: true)
        }
    }
}
