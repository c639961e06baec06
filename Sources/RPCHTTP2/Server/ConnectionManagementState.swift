import NIOCore

/// Keepalive and connection lifetime for one server connection: when to ping, when a client
/// pings too often, and when an idle or old connection is closed.
struct ConnectionManagementState {
    let configuration: ServerConfiguration.ConnectionManagement
    private(set) var activeStreams = 0
    private var lastPingReceived: ContinuousClock.Instant?
    private var pingStrikes = 0
    private var awaitingPingAck = false
    private var lastRead = ContinuousClock.now
    private var lastStreamClosed = ContinuousClock.now
    /// When the connection was set up: its age counts from here.
    private let opened = ContinuousClock.now

    init(configuration: ServerConfiguration.ConnectionManagement) {
        self.configuration = configuration
    }

    mutating func readHappened() { lastRead = .now }
    mutating func streamOpened() { activeStreams += 1 }

    mutating func streamClosed() {
        activeStreams -= 1
        lastStreamClosed = .now
    }

    /// A response's HEADERS (or a trailers-only status) went out: the client's next pings are not strikes.
    ///
    /// As gRPC servers do (gRFC A8): a client may ping after data it received, as grpcio's BDP probes do after
    /// each response. Calls answered on the event loop are over before such a ping arrives, so without this a
    /// grpcio client making quick calls was sent GOAWAY `too_many_pings` and lost the calls it had in flight.
    mutating func responseSent() {
        pingStrikes = 0
        lastPingReceived = nil
    }

    /// Records a client PING; returns `false` when the client has pinged too often (the caller
    /// then sends GOAWAY `too_many_pings`). Pings while calls are active are always allowed.
    mutating func pingReceived(activeStreams: Int) -> Bool {
        let now = ContinuousClock.now
        defer { lastPingReceived = now }
        guard activeStreams == 0, let last = lastPingReceived else { return true }
        if now - last < configuration.minPingInterval {
            pingStrikes += 1
            return pingStrikes <= configuration.maxPingStrikes
        }
        return true
    }

    mutating func pingAcknowledged() { awaitingPingAck = false }

    /// What the periodic check decides.
    enum Action {
        case none
        case sendPing
        case close
        case drain
    }

    /// Called every tick of the connection's ``ConnectionTicker``.
    mutating func tick(now: ContinuousClock.Instant) -> Action {
        let age = now - opened
        if let maxAge = configuration.maxAge {
            if age > maxAge + configuration.maxAgeGrace { return .close }
            if age > maxAge { return .drain }
        }
        if let maxIdle = configuration.maxIdle, activeStreams == 0, now - lastStreamClosed > maxIdle {
            return .drain
        }
        if let interval = configuration.keepaliveInterval, now - lastRead > interval {
            if awaitingPingAck {
                if now - lastRead > interval + configuration.keepaliveTimeout { return .close }
                return .none
            }
            awaitingPingAck = true
            return .sendPing
        }
        return .none
    }
}

extension ServerConnectionHandler {
    /// Runs the keepalive / idle / age check (from the event loop's ``ConnectionTicker``).
    func managementTick(now: ContinuousClock.Instant) {
        switch management.tick(now: now) {
        case .none: return
        case .sendPing:
            session?.submitPing()
            flush()
        case .drain:
            beginDraining()
        case .close:
            channelContext?.close(promise: nil)
        }
    }
}
