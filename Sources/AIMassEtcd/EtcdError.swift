import RPCCore

/// What the etcd client reports besides the ``RPCError`` of a call.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--etcd` could not be parsed.
    case invalidEndpoint(String)
    /// The lease expired (or was revoked) before it could be kept alive: whatever it guarded is lost.
    case leaseLost(id: Int64)
    /// A guarded transaction failed its comparison: this process no longer holds the lease key (deposed).
    case notLeader(String)
    /// A watch cannot resume: the revisions it missed were compacted away.
    case compacted(revision: Int64)
    /// Every endpoint failed; the last error is given.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let message): "invalid etcd endpoint: \(message)"
        case .leaseLost(let id): "etcd lease \(String(id, radix: 16)) expired"
        case .notLeader(let message): "not the leader: \(message)"
        case .compacted(let revision): "etcd compacted the watched revisions (compact revision \(revision))"
        case .unavailable(let message): "no etcd endpoint answered: \(message)"
        }
    }
}

extension EtcdError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .invalidEndpoint(let message): RPCError(code: .invalidArgument, message: message)
        default: RPCError(code: .unavailable, message: description)
        }
    }
}
