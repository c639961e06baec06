/// Counts, for one server connection, the offences of ``AbuseLimits`` and decides when the connection must go.
///
/// A pure state machine: the caller passes the time and acts on the answer (GOAWAY(ENHANCE_YOUR_CALM) with
/// ``Offence/goAwayDebugData`` and close). Header bytes are counted per field without reading the clock (a field
/// costs one add and one compare); the window of that count moves on at the start of each header block.
struct ConnectionAbuseState {
    /// What a connection did too often.
    enum Offence: Sendable, Hashable, CaseIterable {
        case rapidReset, invalidFrame, oversizedHeaderList, headerDecoding

        /// Sent in the GOAWAY's debug data (as gRPC's `too_many_pings`), and logged.
        var goAwayDebugData: String {
            switch self {
            case .rapidReset: "too_many_resets"
            case .invalidFrame: "too_many_invalid_frames"
            case .oversizedHeaderList: "too_many_oversized_headers"
            case .headerDecoding: "header_decoding_budget_exceeded"
            }
        }
    }

    private let limits: AbuseLimits
    private var windowStart: ContinuousClock.Instant
    private var rapidResets = 0
    private var invalidFrames = 0
    private var oversizedHeaderLists = 0
    private var headerBombs = 0
    private var headerBytes = 0
    /// Set once a limit was passed: the connection is going away, nothing more is counted.
    private(set) var offence: Offence?

    /// Whether the connection offended ``suspectAfter`` times in the window (a correct client never does), or was
    /// told to go: it then reads a little at a time (see ``ReadAllowance``).
    var isSuspect: Bool {
        offence != nil || rapidResets + invalidFrames + oversizedHeaderLists >= Self.suspectAfter
    }

    /// Offences in a window after which a connection is a suspect.
    static let suspectAfter = 8

    init(limits: AbuseLimits, now: ContinuousClock.Instant) {
        self.limits = limits
        self.windowStart = now
    }

    /// Records one offence; returns it when its limit for the window is now passed (the connection must close).
    mutating func record(_ kind: Offence, now: ContinuousClock.Instant) -> Offence? {
        guard offence == nil else { return nil }
        roll(now: now)
        let over: Bool
        switch kind {
        case .rapidReset:
            rapidResets += 1
            over = rapidResets > limits.maxRapidResets
        case .invalidFrame:
            invalidFrames += 1
            over = invalidFrames > limits.maxInvalidFrames
        case .oversizedHeaderList:
            oversizedHeaderLists += 1
            over = oversizedHeaderLists > limits.maxOversizedHeaderLists
        case .headerDecoding:
            headerBytes = limits.maxHeaderBytesDecoded + 1
            over = true
        }
        if over { offence = kind }
        return over ? kind : nil
    }

    /// A header list passed twice the size limit (its stream reset mid-block: see ``AbuseLimits/maxHeaderBombs``);
    /// returns ``Offence/oversizedHeaderList`` when the connection must close. Already counted as oversized.
    mutating func recordHeaderBomb(now: ContinuousClock.Instant) -> Offence? {
        guard offence == nil else { return nil }
        roll(now: now)
        headerBombs += 1
        guard headerBombs > limits.maxHeaderBombs else { return nil }
        offence = .oversizedHeaderList
        return .oversizedHeaderList
    }

    /// A header block starts: the window moves on if it has passed.
    mutating func headerBlockStarted(now: ContinuousClock.Instant) {
        roll(now: now)
    }

    /// Counts one decoded header field of `size` bytes; returns `true` when the decoding budget is spent.
    mutating func headerDecoded(size: Int) -> Bool {
        headerBytes &+= size
        guard headerBytes > limits.maxHeaderBytesDecoded, offence == nil else { return false }
        offence = .headerDecoding
        return true
    }

    private mutating func roll(now: ContinuousClock.Instant) {
        guard now - windowStart >= limits.window else { return }
        windowStart = now
        rapidResets = 0
        invalidFrames = 0
        oversizedHeaderLists = 0
        headerBombs = 0
        headerBytes = 0
    }
}
