/// The id of a worker of the pool, assigned by the control plane at Join.
public struct WorkerID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as sent on the wire.
    public var rawValue: String
    /// Wraps a wire id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps a literal id (tests, configuration).
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The id of a deployment, `MODEL@SELECTOR` (for example `movies@production`); opaque to the scheduler.
public struct DeploymentID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as sent on the wire.
    public var rawValue: String
    /// Wraps a wire id.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    /// Wraps a literal id (tests, configuration).
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The id of a replica, assigned by the scheduler when it decides to create one (`DEPLOYMENT#N`).
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as sent on the wire.
    public var rawValue: String
    /// The creation serial, which orders replicas by age (0 for ids that did not come from the scheduler).
    public var serial: UInt64
    /// Wraps a wire id; the serial is parsed from a trailing `#N`.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
        if let hash = rawValue.lastIndex(of: "#"), let n = UInt64(rawValue[rawValue.index(after: hash)...]) {
            self.serial = n
        } else {
            self.serial = 0
        }
    }
    /// Wraps a literal id (tests).
    public init(stringLiteral value: String) { self.init(value) }
    init(deployment: DeploymentID, serial: UInt64) {
        self.rawValue = "\(deployment.rawValue)#\(serial)"
        self.serial = serial
    }
    public var description: String { rawValue }
    /// Older replicas first.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.serial, lhs.rawValue) < (rhs.serial, rhs.rawValue)
    }
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}
