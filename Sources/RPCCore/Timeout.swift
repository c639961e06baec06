/// The `grpc-timeout` header: a positive integer of at most 8 digits and a unit (H, M, S, m, u, n).
public enum GRPCTimeout {
    /// Parses a header value into a duration; `nil` when malformed.
    public static func parse(_ value: String) -> Duration? {
        let utf8 = Array(value.utf8)
        guard utf8.count >= 2, utf8.count <= 9, let unit = utf8.last else { return nil }
        var amount: Int64 = 0
        for digit in utf8.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }

    /// Formats a duration with the finest unit that fits in 8 digits, rounding up so the peer
    /// never sees a shorter deadline than ours.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        // Beyond ~285 years the nanosecond count below would overflow Int64 (a trap): use hours.
        if seconds >= 9_000_000_000 {
            let hours = seconds / 3600 + (seconds % 3600 > 0 || attoseconds > 0 ? 1 : 0)
            return "\(min(hours, 99_999_999))H"
        }
        let nanos = max(0, seconds) * 1_000_000_000 + max(0, attoseconds) / 1_000_000_000
        let units: [(Int64, Character)] = [
            (1, "n"), (1_000, "u"), (1_000_000, "m"), (1_000_000_000, "S"), (60_000_000_000, "M"),
            (3_600_000_000_000, "H"),
        ]
        for (scale, unit) in units {
            let amount = (nanos + scale - 1) / scale
            if amount < 100_000_000 { return "\(max(amount, 1))\(unit)" }
        }
        return "99999999H"
    }
}
