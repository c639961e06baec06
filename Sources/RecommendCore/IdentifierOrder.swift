/// The order of ids used for every tie-break: "the smaller id wins".
///
/// Two ids that are both integers (an optional `-` then ASCII digits, any length) compare numerically; otherwise
/// they compare by the bytes of their UTF-8 encoding. Integers that are numerically equal (`7` and `007`) fall back
/// to byte order.
///
/// The rule "numeric when both are integers, otherwise bytes" is not transitive when a set mixes integer and
/// non-integer ids (`"2" < "10"`, `"10" < "1a"`, `"1a" < "2"`). To keep a total order, every integer id sorts
/// before every non-integer id; within each group the rule above holds exactly. For a file whose ids are all
/// integers (MovieLens) or all non-integers (dish names) this is exactly the spec.
///
/// ```swift
/// IdentifierOrder.precedes("9", "10")      // true: numeric
/// IdentifierOrder.precedes("b10", "b9")    // true: bytes
/// ```
public enum IdentifierOrder {
    /// Whether `a` sorts before `b` (`a` is the "smaller id").
    ///
    /// - Parameters:
    ///   - a: An id.
    ///   - b: Another id.
    /// - Returns: `true` when `a` strictly precedes `b`.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        IdentifierKey(a) < IdentifierKey(b)
    }

    /// The permutation that sorts `ids` in identifier order: `ids[result[0]]` is the smallest.
    static func sortedPermutation(_ ids: [String]) -> [Int] {
        let keys = ids.map(IdentifierKey.init)
        return keys.indices.sorted { keys[$0] < keys[$1] }
    }
}

/// A precomputed sort key for ``IdentifierOrder``.
struct IdentifierKey: Comparable {
    let bytes: [UInt8]
    /// For an integer id: its sign and its magnitude's digits without leading zeros.
    let integer: (negative: Bool, magnitude: ArraySlice<UInt8>)?

    init(_ id: String) {
        let bytes = Array(id.utf8)
        self.bytes = bytes
        self.integer = Self.parseInteger(bytes)
    }

    private static func parseInteger(_ bytes: [UInt8]) -> (negative: Bool, magnitude: ArraySlice<UInt8>)? {
        let negative = bytes.first == UInt8(ascii: "-")
        let digits = bytes[(negative ? 1 : 0)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        let firstNonZero = digits.firstIndex { $0 != UInt8(ascii: "0") } ?? digits.endIndex
        let magnitude = digits[firstNonZero...]
        // -0 is zero: give it no sign so that it equals 0 numerically.
        return (negative && !magnitude.isEmpty, magnitude)
    }

    static func == (lhs: IdentifierKey, rhs: IdentifierKey) -> Bool {
        lhs.bytes == rhs.bytes
    }

    static func < (lhs: IdentifierKey, rhs: IdentifierKey) -> Bool {
        switch (lhs.integer, rhs.integer) {
        case let (a?, b?):
            let numeric = compareIntegers(a, b)
            return numeric != 0 ? numeric < 0 : lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
        case (.some, .none):
            return true
        case (.none, .some):
            return false
        case (.none, .none):
            return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
        }
    }

    /// -1, 0 or 1 as `a` is numerically less than, equal to or greater than `b`.
    private static func compareIntegers(
        _ a: (negative: Bool, magnitude: ArraySlice<UInt8>),
        _ b: (negative: Bool, magnitude: ArraySlice<UInt8>)
    ) -> Int {
        if a.negative != b.negative {
            return a.negative ? -1 : 1
        }
        var magnitudeOrder: Int
        if a.magnitude.count != b.magnitude.count {
            magnitudeOrder = a.magnitude.count < b.magnitude.count ? -1 : 1
        } else if a.magnitude.elementsEqual(b.magnitude) {
            magnitudeOrder = 0
        } else {
            magnitudeOrder = a.magnitude.lexicographicallyPrecedes(b.magnitude) ? -1 : 1
        }
        return a.negative ? -magnitudeOrder : magnitudeOrder
    }
}
