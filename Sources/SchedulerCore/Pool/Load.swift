/// Load of one replica, or a worker's totals (`aimass.v1.Load`).
public struct Load: Sendable, Hashable {
    /// Replica id; empty for worker totals.
    public var replicaId: String
    /// Calls being executed now.
    public var inFlight: UInt32
    /// Calls waiting for a slot now.
    public var queueDepth: UInt32
    /// Calls completed per second.
    public var servedPerSec: Double
    /// Calls rejected per second.
    public var rejectedPerSec: Double
    /// EWMA of call latency in microseconds.
    public var latencyEwmaUs: Int64
    /// Busy fraction, 0...1.
    public var utilisation: Double

    /// Creates a load figure.
    public init(
        replicaId: String = "", inFlight: UInt32 = 0, queueDepth: UInt32 = 0, servedPerSec: Double = 0,
        rejectedPerSec: Double = 0, latencyEwmaUs: Int64 = 0, utilisation: Double = 0
    ) {
        self.replicaId = replicaId
        self.inFlight = inFlight
        self.queueDepth = queueDepth
        self.servedPerSec = servedPerSec
        self.rejectedPerSec = rejectedPerSec
        self.latencyEwmaUs = latencyEwmaUs
        self.utilisation = utilisation
    }
}

/// A worker's latest load (`aimass.v1.LoadReport`): what the autoscaler reads and the Mesh carries.
public struct LoadReport: Sendable, Hashable {
    /// Id of the worker.
    public var workerId: String
    /// When the worker measured it (Unix milliseconds, the worker's clock).
    public var reportedAtMs: Int64
    /// Worker totals.
    public var total: Load
    /// Per replica.
    public var replicas: [Load]

    /// Creates a report.
    public init(workerId: String, reportedAtMs: Int64 = 0, total: Load = Load(), replicas: [Load] = []) {
        self.workerId = workerId
        self.reportedAtMs = reportedAtMs
        self.total = total
        self.replicas = replicas
    }
}
