/// Resources reserved per replica: what one replica takes from its worker.
public struct Resources: Hashable, Sendable {
    /// CPU in millicores (1000 = one core).
    public var cpuMillis: Int64
    /// Memory in bytes.
    public var memoryBytes: Int64

    /// Creates a resource request.
    ///
    /// - Parameters:
    ///   - cpuMillis: CPU in millicores.
    ///   - memoryBytes: Memory in bytes.
    public init(cpuMillis: Int64, memoryBytes: Int64) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
    }

    /// The server default for a request that leaves resources unset: 500 cpu millis and 512 MiB.
    public static var defaults: Self { Self(cpuMillis: 500, memoryBytes: 512 << 20) }
}

/// Capacity of a worker, or the part of it allocated to replicas (same shape as `aimass.v1.Capacity`).
public struct Capacity: Hashable, Sendable {
    /// CPU in millicores.
    public var cpuMillis: Int64
    /// Memory in bytes.
    public var memoryBytes: Int64
    /// Replica slots: the most replicas the worker holds at once (capacity), or the replicas it holds (allocation).
    public var replicaSlots: Int

    /// Creates a capacity.
    ///
    /// - Parameters:
    ///   - cpuMillis: CPU in millicores.
    ///   - memoryBytes: Memory in bytes.
    ///   - replicaSlots: Replica slots.
    public init(cpuMillis: Int64, memoryBytes: Int64, replicaSlots: Int) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.replicaSlots = replicaSlots
    }

    /// Nothing.
    public static var zero: Self { Self(cpuMillis: 0, memoryBytes: 0, replicaSlots: 0) }

    /// Whether one more replica with `request` fits in this (free) capacity.
    public func fits(_ request: Resources) -> Bool {
        replicaSlots >= 1 && cpuMillis >= request.cpuMillis && memoryBytes >= request.memoryBytes
    }

    mutating func add(_ r: Resources) {
        cpuMillis += r.cpuMillis
        memoryBytes += r.memoryBytes
        replicaSlots += 1
    }

    mutating func subtract(_ r: Resources) {
        cpuMillis -= r.cpuMillis
        memoryBytes -= r.memoryBytes
        replicaSlots -= 1
    }

    func minus(_ other: Capacity) -> Capacity {
        Capacity(
            cpuMillis: cpuMillis - other.cpuMillis,
            memoryBytes: memoryBytes - other.memoryBytes,
            replicaSlots: replicaSlots - other.replicaSlots
        )
    }
}

/// Formats a byte count for messages: `1 GiB`, `512 MiB`, `1.5 GiB`, `300 B`.
func formatBytes(_ bytes: Int64) -> String {
    let units: [(String, Int64)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
    for (name, size) in units where bytes >= size || -bytes >= size {
        if bytes % size == 0 { return "\(bytes / size) \(name)" }
        let tenths = (bytes * 10 + size / 2) / size
        return "\(tenths / 10).\(abs(tenths % 10)) \(name)"
    }
    return "\(bytes) B"
}
