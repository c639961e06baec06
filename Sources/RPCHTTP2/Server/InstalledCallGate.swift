import RPCCore

/// A server's ``ServerCallGate`` with the paths it gates, resolved once from the router when the server is created,
/// and its token type erased so that a stream can hold it.
struct InstalledCallGate: Sendable {
    private let gate: any ServerCallGate
    private let paths: Set<String>

    /// `nil` when there is no gate or it gates none of the router's methods: the server then never looks.
    init?(_ gate: (any ServerCallGate)?, router: RPCRouter) {
        guard let gate else { return nil }
        let paths = router.paths.filter { path in router.route(forPath: path).map { gate.gates($0.descriptor) } ?? false }
        guard !paths.isEmpty else { return nil }
        self.gate = gate
        self.paths = Set(paths)
    }

    /// Whether calls to this `:path` go through the gate.
    func gates(path: String) -> Bool { paths.contains(path) }

    /// The gate's decision; an admitted call's token is boxed (inline, without allocation, when it is small).
    func admit(_ call: GatedCall) -> CallGateDecision<any Sendable> { Self.admit(call, by: gate) }

    /// Hands an admitted call's token back with its outcome.
    func callEnded(_ token: any Sendable, outcome: GatedCallOutcome) { Self.callEnded(token, outcome: outcome, by: gate) }

    /// Forgets a queued call that ended before its turn.
    func withdraw(_ id: CallGateQueueID) { gate.withdraw(id) }

    /// How many gated calls the gate holds at most while saturated; `nil` when it is not.
    var saturation: Int? { gate.saturation }

    private static func admit<Gate: ServerCallGate>(_ call: GatedCall, by gate: Gate) -> CallGateDecision<any Sendable> {
        switch gate.admit(call) {
        case .admit(let token): .admit(token)
        case .reject(let error): .reject(error)
        case .queued(let id): .queued(id)
        }
    }

    private static func callEnded<Gate: ServerCallGate>(_ token: any Sendable, outcome: GatedCallOutcome, by gate: Gate) {
        // Always the gate's own type: the server stores only tokens this gate returned.
        guard let token = token as? Gate.Token else { return }
        gate.callEnded(token, outcome: outcome)
    }
}
