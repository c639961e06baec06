/// The deterministic, language-neutral hash behind the evaluation splits.
///
/// `h(seed, u, i) = sm(sm(sm(seed) ^ u) ^ i)`, where `sm` is splitmix64's finaliser (``splitmix64(_:)``) and
/// `u`, `i` are the ids as 64-bit values (``idValue(_:)``). All arithmetic wraps modulo 2⁶⁴.
///
/// ```swift
/// SplitHash.splitmix64(0)                     // 0xE220A8397B1DCDAF
/// SplitHash.hash(seed: 42, user: "196", item: "242")
/// ```
public enum SplitHash {
    /// The seed used by the evaluation protocols unless told otherwise.
    public static let defaultSeed: UInt64 = 42

    /// splitmix64's finaliser: add the golden gamma, then two xor-shift-multiply rounds and a final xor-shift.
    ///
    /// - Parameter x: The input.
    /// - Returns: `z ^ (z >> 31)` after `z = x + 0x9E3779B97F4A7C15`,
    ///   `z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9`, `z = (z ^ (z >> 27)) * 0x94D049BB133111EB`, all wrapping.
    public static func splitmix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a, 64 bits, over the UTF-8 bytes of `text` (offset basis 0xCBF29CE484222325, prime 0x100000001B3).
    ///
    /// - Parameter text: The string to hash.
    /// - Returns: The 64-bit FNV-1a hash.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The 64-bit value an id enters the hash as.
    ///
    /// An id that is a decimal integer fitting in `Int64` (optional `-`, ASCII digits, leading zeros allowed) is its
    /// value, as two's complement bits; any other id is ``fnv1a64(_:)`` of its UTF-8 bytes.
    ///
    /// - Parameter id: A user or item id.
    /// - Returns: The id's 64-bit value.
    public static func idValue(_ id: String) -> UInt64 {
        let utf8 = id.utf8
        let isDecimal =
            !utf8.isEmpty
            && utf8.enumerated().allSatisfy { offset, byte in
                (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || (offset == 0 && byte == UInt8(ascii: "-") && utf8.count > 1)
            }
        if isDecimal, let value = Int64(id) {
            return UInt64(bitPattern: value)
        }
        return Self.fnv1a64(id)
    }

    /// `h(seed, u, i) = sm(sm(sm(seed) ^ u) ^ i)` on 64-bit id values.
    ///
    /// - Parameters:
    ///   - seed: The split seed (42 by default in the protocols).
    ///   - user: The user's 64-bit value (see ``idValue(_:)``).
    ///   - item: The item's 64-bit value.
    /// - Returns: The hash.
    public static func hash(seed: UInt64, user: UInt64, item: UInt64) -> UInt64 {
        splitmix64(splitmix64(splitmix64(seed) ^ user) ^ item)
    }

    /// `h(seed, u, i)` on string ids, each mapped by ``idValue(_:)``.
    ///
    /// - Parameters:
    ///   - seed: The split seed.
    ///   - user: The user id.
    ///   - item: The item id.
    /// - Returns: The hash.
    public static func hash(seed: UInt64, user: String, item: String) -> UInt64 {
        hash(seed: seed, user: idValue(user), item: idValue(item))
    }
}
