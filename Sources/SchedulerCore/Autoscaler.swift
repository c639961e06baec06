/// Knative-style autoscaling decisions for one deployment, as a pure function of its load history.
///
/// Feed it samples of the deployment's total in-flight concurrency with ``record(concurrency:at:)`` and ask
/// ``decide(current:now:)`` for the replica count to aim at:
/// - desired = ⌈average concurrency over the stable window / target concurrency⌉;
/// - when the panic-window average reaches `panicThreshold` × the target of the current replicas, it panics:
///   it scales up on the panic-window average at once and does not scale down until a whole stable window
///   passes without a new panic; after panic it keeps the highest count panic chose until the stable window
///   catches up with it, or has wanted fewer for a whole stable window (Knative's behaviour: a ramp still
///   rising when panic ends is not scaled down on the lagging stable average);
/// - it scales down only with a full stable window of history, at most once per stable window, and by at most
///   `maxScaleDownRate` (2 = halve) each time;
/// - when every sample of a full stable window is below `idleThreshold` of the target per replica, the idle
///   replicas are released at once, down to the minimum;
/// - with throughput samples (``record(servedPerSecond:rejectedPerSecond:replicas:at:)``), it never scales down
///   to fewer replicas than were seen saturated (shedding) at the calls per second offered in the panic window;
/// - the result is always within [min, max].
///
/// ```swift
/// var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 10)
/// scaler.record(concurrency: 18, at: now)
/// let decision = scaler.decide(current: 2, now: now)   // decision.desired == 5, decision.panicking == true
/// ```
public struct Autoscaler: Sendable {
    /// Tunables (Knative's names and defaults).
    public struct Configuration: Hashable, Sendable {
        /// Seconds averaged for the steady decision (default 60).
        public var stableWindow: Double
        /// Seconds averaged for the panic decision (default 6).
        public var panicWindow: Double
        /// Panic when the panic-window average is at least this multiple of the current replicas' target (2).
        public var panicThreshold: Double
        /// One scale-down step divides the replica count by at most this (2 = halve per stable window).
        public var maxScaleDownRate: Double
        /// Fraction of the target concurrency per replica under which a whole stable window counts as idle (0.1).
        public var idleThreshold: Double

        /// Creates a configuration.
        public init(
            stableWindow: Double, panicWindow: Double, panicThreshold: Double, maxScaleDownRate: Double,
            idleThreshold: Double
        ) {
            self.stableWindow = stableWindow
            self.panicWindow = panicWindow
            self.panicThreshold = panicThreshold
            self.maxScaleDownRate = maxScaleDownRate
            self.idleThreshold = idleThreshold
        }

        /// 60 s stable window, 6 s panic window, panic at 2×, halve at most per window, idle below 10 %.
        public static var defaults: Self {
            Self(stableWindow: 60, panicWindow: 6, panicThreshold: 2, maxScaleDownRate: 2, idleThreshold: 0.1)
        }
    }

    /// One decision and the numbers behind it.
    public struct Decision: Hashable, Sendable {
        /// Replica count to aim at, within [min, max].
        public var desired: Int
        /// Whether the autoscaler is in panic mode.
        public var panicking: Bool
        /// Whether the whole stable window was idle (replicas released to the minimum).
        public var idle: Bool
        /// Average concurrency over the stable window.
        public var stableConcurrency: Double
        /// Average concurrency over the panic window.
        public var panicConcurrency: Double
    }

    /// The tunables.
    public var configuration: Configuration
    /// In-flight calls per replica to aim at (≥ 1).
    public var targetConcurrency: Int
    /// Lower bound of the result.
    public var minReplicas: Int
    /// Upper bound of the result.
    public var maxReplicas: Int

    private var samples: [(time: Double, concurrency: Double)] = []
    private var firstSample: Double?
    private var panicSince: Double?
    private var lastScaleDown: Double?
    /// The highest count chosen in the current or last panic, kept as a floor after it until released.
    private var panicPeak: Int?
    /// Since when the stable recommendation has been below ``panicPeak`` without interruption.
    private var belowPeakSince: Double?
    private var throughput: [(time: Double, offered: Double)] = []
    /// Calls per second one replica served while the deployment shed calls (the latest such sample).
    private var saturatedPerReplica: Double?

    /// Creates an autoscaler with no history.
    public init(targetConcurrency: Int, minReplicas: Int, maxReplicas: Int, configuration: Configuration = .defaults) {
        self.configuration = configuration
        self.targetConcurrency = max(targetConcurrency, 1)
        self.minReplicas = minReplicas
        self.maxReplicas = max(maxReplicas, minReplicas)
    }

    /// Records the deployment's total in-flight concurrency observed at `time` (seconds, caller's clock).
    public mutating func record(concurrency: Double, at time: Double) {
        if firstSample == nil { firstSample = time }
        samples.append((time, max(concurrency, 0)))
    }

    /// Records the deployment's calls served and rejected per second at `time` with `replicas` serving them.
    ///
    /// Optional. When calls were rejected, the replicas were saturated: `servedPerSecond / replicas` is what one
    /// replica can serve, and no scale-down goes below what the offered rate (served + rejected) then needs.
    /// Why: a concurrency signal measured on N replicas that shed nothing says nothing about N − 1 replicas whose
    /// admission limit may sit below the target (it falls to 1 when the CPU is contended), so scaling down on it
    /// alone flapped (2 → 1 → 3 under a steady load in `scripts/bench-autoscale.sh`).
    public mutating func record(servedPerSecond: Double, rejectedPerSecond: Double, replicas: Int, at time: Double) {
        let served = max(servedPerSecond, 0)
        let rejected = max(rejectedPerSecond, 0)
        throughput.append((time, served + rejected))
        if rejected > 0, replicas > 0, served > 0 { saturatedPerReplica = served / Double(replicas) }
    }

    /// Decides the replica count to aim at, given the `current` count (ready replicas) at `now`.
    ///
    /// It is mutating because it ages out old samples and remembers panic mode and the last scale-down.
    public mutating func decide(current: Int, now: Double) -> Decision {
        let config = configuration
        if let cut = samples.firstIndex(where: { $0.time > now - config.stableWindow }) {
            samples.removeFirst(cut)
        } else {
            samples.removeAll()
        }
        throughput.removeAll { $0.time <= now - config.panicWindow }
        let target = Double(targetConcurrency)
        let stable = average(since: now - config.stableWindow)
        let panic = average(since: now - config.panicWindow)
        let covered = firstSample.map { now - $0 >= config.stableWindow } ?? false
        let capacity = target * Double(max(current, 1))

        if !samples.isEmpty, panic >= config.panicThreshold * capacity {
            panicSince = now
        } else if let since = panicSince, now - since >= config.stableWindow {
            panicSince = nil
        }
        let wantStable = Int((stable / target).rounded(.up))
        let wantPanic = Int((panic / target).rounded(.up))
        var desired: Int
        var idle = false
        if panicSince != nil {
            desired = max(current, wantPanic, wantStable)
            panicPeak = max(panicPeak ?? 0, desired)
            belowPeakSince = nil
        } else if wantStable >= current {
            desired = wantStable
        } else if wantPanic >= current || !covered || lastScaleDown.map({ now - $0 < config.stableWindow }) == true {
            // The recent (panic-window) load still needs the current replicas: the stable average lags
            // behind a rising load, so it alone must not scale down (it did, right after a panic ended).
            desired = current
        } else {
            let floor = Int((Double(current) / max(config.maxScaleDownRate, 1)).rounded(.up))
            desired = max(wantStable, wantPanic, floor)
        }
        if panicSince == nil, let peak = panicPeak {
            // Out of panic: keep its highest count until the stable window catches up with it, or has wanted
            // fewer for a whole window.
            if wantStable >= peak {
                panicPeak = nil
            } else {
                let since = belowPeakSince ?? now
                belowPeakSince = since
                if now - since >= config.stableWindow {
                    panicPeak = nil
                } else {
                    desired = max(desired, peak)
                }
            }
            if panicPeak == nil { belowPeakSince = nil }
        }
        if desired < current, let perReplica = saturatedPerReplica, perReplica > 0,
            let offered = throughput.map(\.offered).max()
        {
            desired = max(desired, min(current, Int((offered / perReplica).rounded(.up))))
        }
        if panicSince == nil, covered, !samples.isEmpty,
            samples.allSatisfy({ $0.concurrency < config.idleThreshold * capacity })
        {
            idle = true
            desired = min(desired, max(wantStable, minReplicas))
        }
        desired = min(max(desired, minReplicas), maxReplicas)
        if desired < current { lastScaleDown = now }
        return Decision(
            desired: desired, panicking: panicSince != nil, idle: idle, stableConcurrency: stable,
            panicConcurrency: panic
        )
    }

    private func average(since start: Double) -> Double {
        var sum = 0.0
        var count = 0
        for sample in samples.reversed() {
            guard sample.time > start else { break }
            sum += sample.concurrency
            count += 1
        }
        return count == 0 ? 0 : sum / Double(count)
    }
}
