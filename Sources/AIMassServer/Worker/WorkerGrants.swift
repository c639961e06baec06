import AIMassAPI
import AIMassServices
import Foundation
import ModelRegistry
import RPCCore
import Synchronization

/// The access rules a worker received from the control plane (`AccessGrants` on its Join stream), to authorize
/// inference calls on its own: the caller's token is hashed (SHA-256) and looked up, the model's readers checked,
/// an alias resolved, all without a round trip, and whether the control plane is reachable or not.
///
/// A decision is ``Decision/unknown`` when the rules cannot tell (none received yet, a token or model or alias they do
/// not list: perhaps created since the last push): the caller then asks the control plane (``ControlPlaneAuthorizer``).
/// So a revoked token, which the next push no longer lists, is never allowed from these rules.
final class WorkerGrants: Sendable {
    /// What the rules say about one call.
    enum Decision: Equatable {
        /// Allowed; for an alias, the version it names.
        case allowed(version: UInt32?)
        /// Refused with this status.
        case denied(RPCError)
        /// Not listed: ask the control plane.
        case unknown
    }

    private struct Index {
        var tokens: [String: TokenGrant] = [:]
        var models: [String: (readers: Set<String>, grant: ModelGrant)] = [:]
    }

    private let index = Mutex<Index?>(nil)
    /// The request buckets of tokens with a quota, by token hash (this worker's own: see ``decide(authorization:model:alias:)``).
    private let quotas = TokenQuotas<String>()

    /// Replaces the rules with a new set.
    func replace(_ grants: AccessGrants) {
        var next = Index()
        for token in grants.tokens { next.tokens[token.sha256] = token }
        for model in grants.models { next.models[model.model] = (Set(model.readers), model) }
        index.withLock { $0 = next }
    }

    /// Whether any rules arrived.
    var isLoaded: Bool { index.withLock { $0 != nil } }

    /// Decides a call for `model` with the caller's `authorization` metadata; `alias` (nil for none) is resolved to
    /// a version. An allowed call counts against the token's quota (`requests_per_second`, enforced by each worker
    /// on its own): over it, the call is denied `RESOURCE_EXHAUSTED` with `retry-after-ms`. Ask once per call.
    func decide(authorization header: String, model: String, alias: String?) -> Decision {
        guard let token = Self.bearerToken(header) else {
            return .denied(RPCError(code: .unauthenticated, message: "authorization metadata must be 'Bearer <token>'"))
        }
        guard let hash = ArtifactDigest.sha256Hex(Array(token.utf8)) else { return .unknown }
        var quota: (id: Int64, rate: UInt32)?
        let decision = index.withLock { index -> Decision in
            guard let index, let caller = index.tokens[hash] else { return .unknown }
            if caller.requestsPerSecond > 0 { quota = (caller.tokenId, caller.requestsPerSecond) }
            // The token's own limits first (access.proto): expiry, then its scope of models.
            if caller.expiresAtMs != 0, Self.nowMs() >= caller.expiresAtMs {
                return .denied(RPCError(code: .unauthenticated, message: "token expired"))
            }
            if !caller.models.isEmpty, !caller.models.contains(model) {
                return .denied(RPCError(code: .notFound, message: "model '\(model)' does not exist"))
            }
            guard let entry = index.models[model] else { return .unknown }
            // Reader is the lowest role: a caller without it has none, and the model is not revealed to them
            // (registry.proto; what `GetModel` answers the control plane's own callers).
            guard caller.admin || entry.readers.contains(caller.user) else {
                return .denied(RPCError(code: .notFound, message: "model '\(model)' does not exist"))
            }
            guard let alias else { return .allowed(version: nil) }
            if alias == "latest" {
                return entry.grant.latestVersion > 0 ? .allowed(version: entry.grant.latestVersion) : .unknown
            }
            return entry.grant.aliases[alias].map { .allowed(version: $0) } ?? .unknown
        }
        guard case .allowed = decision, let quota, let wait = quotas.admit(token: hash, rate: quota.rate) else {
            return decision
        }
        return .denied(.quotaExceeded(tokenID: quota.id, requestsPerSecond: quota.rate, retryAfter: wait))
    }

    /// The version of `model` that the A/B split of `alias` (as last pushed) sends `user` to, by the control plane's
    /// own rule (``SplitRule``'s `version(model:user:)`); nil when the rules list no split of that alias. It decides
    /// nothing about access: the call is then authorized for the version it names.
    func splitVersion(model: String, alias: String, user: String) -> UInt32? {
        index.withLock { index -> UInt32? in
            guard let grant = index?.models[model]?.grant, let champion = grant.aliases[alias],
                let split = grant.splits.first(where: { $0.alias == alias && $0.percent > 0 && $0.challengerVersion > 0 })
            else { return nil }
            let rule = SplitRule(
                alias: alias, version: Int(champion), challengerVersion: Int(split.challengerVersion),
                percent: Int(split.percent))
            return UInt32(clamping: rule.version(model: model, user: user))
        }
    }

    /// The version `alias` of `model` points at (`latest`: the newest); nil when the rules do not list them.
    func aliasVersion(model: String, alias: String) -> UInt32? {
        index.withLock { index -> UInt32? in
            guard let grant = index?.models[model]?.grant else { return nil }
            if alias == "latest" { return grant.latestVersion > 0 ? grant.latestVersion : nil }
            return grant.aliases[alias]
        }
    }

    /// Milliseconds since 1970, as `expires_at_ms` counts them.
    static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, blanks around the token ignored), or nil.
    static func bearerToken(_ header: String) -> String? {
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let rest = bytes[scheme.count...].drop { $0 == 0x20 || $0 == 0x09 }
        let token = rest.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }
}
