extension AbuseCounters {
    /// Every reason ``connectionsClosed(for:)`` counts: the GOAWAY debug data of each abuse limit
    /// (`too_many_resets`, `too_many_invalid_frames`, …), so that an exporter can list them without knowing the limits.
    public static var goAwayReasons: [String] { ConnectionAbuseState.Offence.allCases.map(\.goAwayDebugData) }
}
