/// A small deterministic pseudo-random generator (SplitMix64), so that randomised tests and simulations repeat
/// exactly and their failures can be reproduced from the seed.
///
/// ```swift
/// var random = SplitMix64(seed: 42)
/// let size = Int.random(in: 1...100, using: &random)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The current state; the next value is derived from it.
    public var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
