/// When to give the memory of closed connections back to the kernel (`malloc_trim`): glibc's `free` keeps it in the
/// allocator's arenas, so after thousands of connections close (an idle-connection flood, say) the resident size
/// would stay at its peak. A trim is due once the open count fell `threshold` below its peak, or once `threshold`
/// connections closed since the last trim however many stayed open (churn: attackers that reconnect after every
/// GOAWAY close tens of thousands of connections one at a time, each leaving its freed buffers behind, and never
/// make a burst), and runs a moment later so that one trim covers a whole burst. While a burst is still closing
/// when its trim runs, the next close schedules another, until a trim finds the closing over: a burst that closes
/// slowly (a loaded machine) would otherwise leave up to `threshold` connections' memory untrimmed after its last
/// trim (seen: 3,000 idle connections closed, RSS 42 MiB against a 31 MiB baseline). Churn is followed up the same
/// way: a trim that saw at least `threshold / 16` closes while it waited leaves the next close to schedule another,
/// so the attack's last few hundred connections are trimmed too (seen: 600 rapid-reset connections in 4 s, RSS
/// 40 MiB against 31).
///
/// A pure state machine; ``ServerShared`` does the I/O.
struct MemoryTrimPolicy {
    let threshold: Int
    private var peak = 0
    /// Connections closed since the last trim ran.
    private var closedSinceTrim = 0
    private var scheduled = false
    /// Connections open when the pending trim was scheduled.
    private var countWhenScheduled = 0
    /// Connections closed while the pending trim waited.
    private var closedWhileScheduled = 0
    /// Connections closed while the last trim waited: the next close schedules another.
    private var burstStillClosing = false

    init(threshold: Int = 256) {
        self.threshold = threshold
    }

    mutating func opened(count: Int) {
        peak = max(peak, count)
    }

    /// A connection closed, `count` remain; returns `true` when the caller should schedule a trim.
    mutating func closed(count: Int) -> Bool {
        closedSinceTrim += 1
        if scheduled { closedWhileScheduled += 1 }
        guard !scheduled, peak - count >= threshold || closedSinceTrim >= threshold || burstStillClosing else {
            return false
        }
        scheduled = true
        countWhenScheduled = count
        closedWhileScheduled = 0
        return true
    }

    /// The scheduled trim ran with `count` connections open.
    mutating func trimmed(count: Int) {
        scheduled = false
        closedSinceTrim = 0
        burstStillClosing = count < countWhenScheduled || closedWhileScheduled >= max(1, threshold / 16)
        peak = count
    }
}
