extension AdmissionController {
    /// Tunables of admission control.
    public struct Configuration: Hashable, Sendable {
        /// The concurrency limit before any latency is observed (the replica's target concurrency).
        public var initialLimit: Int
        /// Lower bound of the adaptive limit.
        public var minLimit: Int
        /// Upper bound of the adaptive limit.
        public var maxLimit: Int
        /// The most calls waiting at once.
        public var queueCapacity: Int
        /// For each priority class (0 = batch, 1 = normal, 2 = critical), the share of the limit and of the queue
        /// it may use; higher classes keep the rest in reserve. Priorities beyond the list use the last share.
        public var classShares: [Double]
        /// Weight of a new latency sample in the latency EWMA.
        public var latencySmoothing: Double
        /// Weight of each gradient step in the limit, per round trip (each call's step is this divided by the limit).
        public var limitSmoothing: Double
        /// Seconds after which the minimum latency is re-learned (so a lasting slowdown is accepted).
        public var minLatencyWindow: Double
        /// The longest expected queue wait accepted, in service times (latency EWMA): a call that would wait longer
        /// is shed at once with `queueFull`, whatever its deadline. Bounds the queue in time, not only in count, so
        /// admitted calls never wait much longer than they run; `.infinity` bounds it by `queueCapacity` alone.
        public var maxQueueWait: Double
        /// The limit grows (by √limit per step) only while the latency EWMA is within this multiple of the minimum
        /// latency; above it the replica is congested and the limit only follows the gradient down. Without it the
        /// √limit headroom holds the limit at 4 or more even on a one-core replica, where each extra call in flight
        /// adds a whole service time to every call's latency.
        public var congestionTolerance: Double
        /// How many mean deviations of the service time (EWMA of each sample's distance from the service-time EWMA;
        /// the latency's when the caller does not report service times) are added to the minimum latency to make the
        /// baseline that the gradient and `congestionTolerance` compare against. A jittery service's best sample is
        /// far below its typical latency even when nothing waits; measured against the bare minimum it looks
        /// congested at any load, and a replica that can run 8 calls at once was held at 1. `0` compares against the
        /// bare minimum (the old rule).
        public var jitterAllowance: Double

        /// Creates a configuration.
        public init(
            initialLimit: Int, minLimit: Int, maxLimit: Int, queueCapacity: Int, classShares: [Double],
            latencySmoothing: Double, limitSmoothing: Double, minLatencyWindow: Double, maxQueueWait: Double = 1,
            congestionTolerance: Double = 1.5, jitterAllowance: Double = 2
        ) {
            self.jitterAllowance = jitterAllowance
            self.congestionTolerance = congestionTolerance
            self.maxQueueWait = maxQueueWait
            self.initialLimit = initialLimit
            self.minLimit = minLimit
            self.maxLimit = maxLimit
            self.queueCapacity = queueCapacity
            self.classShares = classShares
            self.latencySmoothing = latencySmoothing
            self.limitSmoothing = limitSmoothing
            self.minLatencyWindow = minLatencyWindow
        }

        /// Limit 4 in [1, 64], queue 32 calls and at most 1 service time of expected wait, shares 50 % / 80 % /
        /// 100 %, EWMA 0.2, limit smoothing 0.2, 30 s window, grows only while latency ≤ 1.5 × (its minimum + two
        /// mean deviations of the service time).
        public static var defaults: Self {
            Self(
                initialLimit: 4, minLimit: 1, maxLimit: 64, queueCapacity: 32, classShares: [0.5, 0.8, 1.0],
                latencySmoothing: 0.2, limitSmoothing: 0.2, minLatencyWindow: 30,
                maxQueueWait: 1, congestionTolerance: 1.5, jitterAllowance: 2
            )
        }

        /// The defaults, changed by `configure`.
        public static func defaults(configure: (inout Self) -> Void) -> Self {
            var config = Self.defaults
            configure(&config)
            return config
        }
    }
}
