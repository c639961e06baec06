/// A table of (user, item, rating, timestamp) interactions with one row per distinct (user, item) pair.
///
/// Duplicate pairs are collapsed when the table is built: the last row in input order wins (its rating and its
/// timestamp). With implicit feedback every pair is 1 anyway, so this is "1 for implicit, last row wins for explicit".
///
/// Users and items are stored in ``IdentifierOrder`` so that a dense index order is the id order; rows are grouped
/// by user and sorted by item inside each user.
///
/// ```swift
/// let table = try InteractionTable(parsing: "user\titem\trating\nalice\tmapo_tofu\t5\n")
/// let table2 = try InteractionTable(contentsOfFile: "data/ml-100k.inter")
/// ```
public struct InteractionTable: Sendable {
    /// Distinct user ids, in ``IdentifierOrder``.
    public let userIds: [String]
    /// Distinct item ids, in ``IdentifierOrder``.
    public let itemIds: [String]
    /// How many rows the input had, duplicates included.
    public let inputRowCount: Int
    /// The 1-based input line (or row number, for built tables) of the first row without a rating, if any.
    public let firstUnratedLine: Int?

    /// Row offsets per user: the rows of user `u` are `userStart[u] ..< userStart[u + 1]`.
    let userStart: [Int]
    /// Item index of each row.
    let itemIndex: [Int32]
    /// Rating of each row (1 where the input had none).
    let rating: [Double]
    /// Timestamp of each row (0 where the input had none).
    let timestamp: [Double]

    init(
        userIds: [String],
        itemIds: [String],
        inputRowCount: Int,
        firstUnratedLine: Int?,
        userStart: [Int],
        itemIndex: [Int32],
        rating: [Double],
        timestamp: [Double]
    ) {
        self.userIds = userIds
        self.itemIds = itemIds
        self.inputRowCount = inputRowCount
        self.firstUnratedLine = firstUnratedLine
        self.userStart = userStart
        self.itemIndex = itemIndex
        self.rating = rating
        self.timestamp = timestamp
    }

    /// The number of distinct (user, item) pairs.
    public var count: Int {
        self.itemIndex.count
    }

    /// How many input rows were collapsed into an earlier pair.
    public var duplicateRowCount: Int {
        self.inputRowCount - self.count
    }

    /// The interactions of one user, in item order (after duplicates were collapsed).
    ///
    /// - Parameter user: A user id.
    /// - Returns: The user's interactions, or an empty array for an unknown user.
    public func interactions(ofUser user: String) -> [Interaction] {
        guard let u = self.userIds.firstIndex(of: user) else {
            return []
        }
        return (self.userStart[u]..<self.userStart[u + 1]).map { row in
            Interaction(
                user: user,
                item: self.itemIds[Int(self.itemIndex[row])],
                rating: self.rating[row],
                timestamp: self.timestamp[row]
            )
        }
    }

    /// A table with only the rows for which `keep(row)` is true; users and items left without rows are dropped.
    func filtered(_ keep: (Int) -> Bool) -> InteractionTable {
        var keptItem = [Bool](repeating: false, count: self.itemIds.count)
        var userStart = [0]
        var userIds: [String] = []
        var itemIndex: [Int32] = []
        var rating: [Double] = []
        var timestamp: [Double] = []
        for u in 0..<self.userIds.count {
            let before = itemIndex.count
            for row in self.userStart[u]..<self.userStart[u + 1] where keep(row) {
                itemIndex.append(self.itemIndex[row])
                rating.append(self.rating[row])
                timestamp.append(self.timestamp[row])
                keptItem[Int(self.itemIndex[row])] = true
            }
            if itemIndex.count > before {
                userIds.append(self.userIds[u])
                userStart.append(itemIndex.count)
            }
        }
        var newItem = [Int32](repeating: -1, count: self.itemIds.count)
        var itemIds: [String] = []
        for (old, kept) in keptItem.enumerated() where kept {
            newItem[old] = Int32(itemIds.count)
            itemIds.append(self.itemIds[old])
        }
        for row in itemIndex.indices {
            itemIndex[row] = newItem[Int(itemIndex[row])]
        }
        return InteractionTable(
            userIds: userIds,
            itemIds: itemIds,
            inputRowCount: itemIndex.count,
            firstUnratedLine: self.firstUnratedLine,
            userStart: userStart,
            itemIndex: itemIndex,
            rating: rating,
            timestamp: timestamp
        )
    }
}

/// One interaction row: a user, an item, and optionally a rating and a timestamp.
public struct Interaction: Hashable, Sendable {
    /// The user id.
    public var user: String
    /// The item id.
    public var item: String
    /// The rating, used with explicit feedback.
    public var rating: Double?
    /// The timestamp, used by the leave-last-one-out split (0 when absent).
    public var timestamp: Double?

    /// Creates an interaction.
    ///
    /// - Parameters:
    ///   - user: The user id.
    ///   - item: The item id.
    ///   - rating: The rating, if any.
    ///   - timestamp: The timestamp, if any.
    public init(user: String, item: String, rating: Double? = nil, timestamp: Double? = nil) {
        self.user = user
        self.item = item
        self.rating = rating
        self.timestamp = timestamp
    }
}

extension InteractionTable {
    /// Builds a table from interactions in order (later duplicates win).
    ///
    /// ```swift
    /// let table = InteractionTable([Interaction(user: "1", item: "10", rating: 4)])
    /// ```
    ///
    /// - Parameter interactions: The rows, in input order.
    public init(_ interactions: some Sequence<Interaction>) {
        var builder = Builder()
        for interaction in interactions {
            builder.append(
                user: interaction.user,
                item: interaction.item,
                rating: interaction.rating,
                timestamp: interaction.timestamp
            )
        }
        self = builder.build()
    }
}
