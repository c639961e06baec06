import RPCCore

/// Which of several control planes (`--join A,B,C`) a worker joins next: the one it used while it answers; after a
/// failure, the leader a standby named (its `aimass-leader` trailing metadata) when that is one of the list, else
/// the next one in turn. Pure state.
struct ControlPlaneTargets: Sendable, Equatable {
    /// `HOST:PORT` of each control plane, in the order given.
    let addresses: [String]
    /// The index of the one to join.
    private(set) var current = 0

    init(addresses: [String]) {
        precondition(!addresses.isEmpty, "a worker needs at least one control plane")
        self.addresses = addresses
    }

    /// After a Join stream failed with `error`: moves to the leader it names, or to the next control plane.
    mutating func failed(with error: any Error) {
        guard addresses.count > 1 else { return }
        if let leader = (error as? RPCError)?.metadata.firstString(forKey: Self.leaderMetadataKey),
            let index = addresses.firstIndex(of: leader)
        {
            current = index
        } else {
            current = (current + 1) % addresses.count
        }
    }

    /// The trailing metadata key in which a standby control plane names the leader.
    static let leaderMetadataKey = "aimass-leader"
}
