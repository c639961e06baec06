import NIOCore

/// How much NIO may read from one connection each time it is ready: one read of 1 KiB while the connection is new
/// or offends the abuse limits, NIO's usual (up to 16 reads, buffers sized to the traffic) once it has behaved for a
/// few turns. A pure state machine: the handler applies the size it returns to its channel's options.
///
/// Why: NIO reads every ready connection in turn within one event-loop tick, and each turn's bytes are handled at
/// once. A rapid-reset attacker's turn (up to 16 reads: hundreds of streams started and reset) held the loop
/// ~0.3 ms per connection, so ten attacker connections, reconnecting as each was closed, made ticks of 3-10 ms, and
/// a legitimate call waited for one or two of them (p99 ×3.8 on a quiet machine). At 1 KiB a turn (about 20
/// HEADERS+RST_STREAM pairs) the rest waits in the kernel, and the attacker's sends block, instead of the loop.
/// A new connection's first turns are small for any client (its preface, SETTINGS and first requests), so only a
/// connection that has not yet shown itself, or that offends, reads slowly.
struct ReadAllowance: Sendable, Hashable {
    enum Size: Sendable, Hashable {
        case small, usual
    }

    /// Bytes of the one read of a turn while small.
    static let smallReadBytes = 1024
    /// Reads of a turn once usual (the server's child channel option).
    static let usualReadsPerTurn: UInt = 16
    /// Turns without being a suspect after which a connection reads the usual amount.
    static let turnsBeforeUsual = 4

    private(set) var size = Size.small
    private var turns = 0

    /// At the end of a turn of reads, with whether the connection is now a suspect
    /// (``ConnectionAbuseState/isSuspect``); returns the size to apply when it changes.
    mutating func turnEnded(suspect: Bool) -> Size? {
        turns += 1
        let wanted: Size = suspect || turns < Self.turnsBeforeUsual ? .small : .usual
        guard wanted != size else { return nil }
        size = wanted
        return wanted
    }
}

extension Channel {
    /// Sets the read options for `size` (see ``ReadAllowance``); channels without them (in-process) are left as
    /// they are.
    func applyReadAllowance(_ size: ReadAllowance.Size) {
        guard let options = syncOptions else { return }
        switch size {
        case .small:
            try? options.setOption(.maxMessagesPerRead, value: 1)
            try? options.setOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: ReadAllowance.smallReadBytes))
        case .usual:
            try? options.setOption(.maxMessagesPerRead, value: ReadAllowance.usualReadsPerTurn)
            try? options.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator())
        }
    }
}
