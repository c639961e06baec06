import AIMassAPI
import RPCCore
import RPCHTTP2
import Synchronization

/// Authorizes inference calls on a worker: the caller's token must be able to read the model, which the worker
/// asks the control plane with `ModelRegistry/GetModel` under that token. Answers (allowed, or a definite
/// NOT_FOUND / PERMISSION_DENIED / UNAUTHENTICATED) are cached per (token, model) for ``ttl``.
///
/// Aliases are resolved the same way: `ModelRegistry/GetVersion` with the caller's token and the alias, whose
/// answer (the version number, or the refusal) is cached per (token, model, alias) for ``ttl``. So an alias moved
/// on the control plane is followed by every worker within ``ttl``.
///
/// Unlike the control plane's own cache, nothing invalidates these answers: a token revoked (or a grant removed)
/// on the control plane keeps working on a worker that already allowed it for up to ``ttl`` (default 5 s), and a
/// new grant is seen after at most as long. A shorter TTL costs one `GetModel` round trip per (token, model) and
/// TTL on the worker's calls.
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
        var expires: ContinuousClock.Instant
    }

    let client: RPCClient
    let ttl: Duration
    private let cache = Mutex<[Key: Answer]>([:])

    /// - Parameter ttl: How long an answer is kept: the longest a revoked token or removed grant still works here.
    init(client: RPCClient, ttl: Duration = .seconds(5)) {
        self.client = client
        self.ttl = ttl
    }

    /// The cached answer, without waiting: true when the caller may read `model`, false when nothing is cached (ask
    /// ``authorize(model:context:)``); throws the cached refusal.
    func cachedAuthorization(model: String, context: ServerContext) throws(RPCError) -> Bool {
        let header = try Self.authorization(context)
        guard let cached = cachedAnswer(Key(authorization: header, model: model), now: .now) else { return false }
        if let error = cached.error { throw error }
        return true
    }

    /// Returns when the caller may read `model`; throws the status to answer with otherwise.
    func authorize(model: String, context: ServerContext) async throws {
        let header = try Self.authorization(context)
        let key = Key(authorization: header, model: model)
        let now = ContinuousClock.now
        if let cached = cachedAnswer(key, now: now) {
            if let error = cached.error { throw error }
            return
        }
        var error: RPCError?
        do {
            let _: Model = try await client.unary(
                ModelRegistryMethods.getModel,
                request: GetModelRequest(name: model),
                options: CallOptions(timeout: .seconds(5), metadata: ["authorization": .string(header)])
            )
        } catch let failure as RPCError where [.notFound, .permissionDenied, .unauthenticated].contains(failure.code) {
            error = RPCError(code: failure.code, message: failure.message)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot check access with the control plane: \(error)")
        }
        store(Answer(error: error, expires: now + ttl), for: key)
        if let error { throw error }
    }

    /// The cached version `alias` of `model` points at for this caller, without waiting: nil when nothing is cached
    /// (ask ``resolve(model:alias:context:)``); throws the cached refusal.
    func cachedVersion(model: String, alias: String, context: ServerContext) throws(RPCError) -> UInt32? {
        let header = try Self.authorization(context)
        guard let cached = cachedAnswer(Key(authorization: header, model: model, alias: alias), now: .now) else {
            return nil
        }
        if let error = cached.error { throw error }
        return cached.version
    }

    /// The version `alias` of `model` points at, asked of the control plane under the caller's token (which also
    /// checks that the caller may read the model); throws the status to answer with otherwise.
    func resolve(model: String, alias: String, context: ServerContext) async throws -> UInt32 {
        let header = try Self.authorization(context)
        let key = Key(authorization: header, model: model, alias: alias)
        let now = ContinuousClock.now
        if let cached = cachedAnswer(key, now: now) {
            if let error = cached.error { throw error }
            if let version = cached.version { return version }
        }
        var answer = Answer(error: nil, version: nil, expires: now + ttl)
        do {
            let version: Version = try await client.unary(
                ModelRegistryMethods.getVersion,
                request: GetVersionRequest(model: model, version: VersionSelector(alias: alias)),
                options: CallOptions(timeout: .seconds(5), metadata: ["authorization": .string(header)])
            )
            answer.version = version.number
        } catch let failure as RPCError
            where [.notFound, .permissionDenied, .unauthenticated, .invalidArgument].contains(failure.code)
        {
            answer.error = RPCError(code: failure.code, message: failure.message)
        } catch {
            throw RPCError(
                code: .unavailable,
                message: "cannot resolve alias '\(alias)' of model '\(model)' with the control plane: \(error)"
            )
        }
        store(answer, for: key)
        if let error = answer.error { throw error }
        return answer.version ?? 0
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

    private func cachedAnswer(_ key: Key, now: ContinuousClock.Instant) -> Answer? {
        cache.withLock { cache -> Answer? in
            guard let answer = cache[key] else { return nil }
            if answer.expires <= now {
                cache[key] = nil
                return nil
            }
            return answer
        }
    }
}
