import AIMassAPI
import RPCCore
import RPCHTTP2
import Synchronization

/// Authorizes inference calls on a worker: the caller's token must be able to read the model, which the worker
/// asks the control plane with `ModelRegistry/GetModel` under that token. Answers (allowed, or a definite
/// NOT_FOUND / PERMISSION_DENIED / UNAUTHENTICATED) are cached per (token, model) for ``ttl``.
///
/// Unlike the control plane's own cache, nothing invalidates these answers: a token revoked (or a grant removed)
/// on the control plane keeps working on a worker that already allowed it for up to ``ttl`` (default 5 s), and a
/// new grant is seen after at most as long. A shorter TTL costs one `GetModel` round trip per (token, model) and
/// TTL on the worker's calls.
final class ControlPlaneAuthorizer: Sendable {
    private struct Key: Hashable {
        var authorization: String
        var model: String
    }
    private struct Answer {
        var error: RPCError?
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
                MethodDescriptor(service: "aimass.v1.ModelRegistry", method: "GetModel"),
                request: GetModelRequest(name: model),
                options: CallOptions(timeout: .seconds(5), metadata: ["authorization": .string(header)])
            )
        } catch let failure as RPCError where [.notFound, .permissionDenied, .unauthenticated].contains(failure.code) {
            error = RPCError(code: failure.code, message: failure.message)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot check access with the control plane: \(error)")
        }
        let answer = Answer(error: error, expires: now + ttl)
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[key] = answer
        }
        if let error { throw error }
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
