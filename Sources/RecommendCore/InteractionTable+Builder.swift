extension InteractionTable {
    /// Accumulates interaction rows, then builds an ``InteractionTable`` (sorting ids, collapsing duplicates).
    ///
    /// ```swift
    /// var builder = InteractionTable.Builder()
    /// builder.append(user: "alice", item: "mapo_tofu", rating: 5)
    /// let table = builder.build()
    /// ```
    public struct Builder: Sendable {
        private var userLookup: [String: Int32] = [:]
        private var itemLookup: [String: Int32] = [:]
        private var userNames: [String] = []
        private var itemNames: [String] = []
        private var users: [Int32] = []
        private var items: [Int32] = []
        private var ratings: [Double] = []
        private var timestamps: [Double] = []
        private var firstUnratedLine: Int?

        /// Creates an empty builder.
        ///
        /// - Parameter capacity: Rows to reserve room for.
        public init(capacity: Int = 0) {
            self.users.reserveCapacity(capacity)
            self.items.reserveCapacity(capacity)
            self.ratings.reserveCapacity(capacity)
            self.timestamps.reserveCapacity(capacity)
        }

        /// The number of rows appended so far.
        public var rowCount: Int {
            self.users.count
        }

        /// Appends one row.
        ///
        /// - Parameters:
        ///   - user: The user id.
        ///   - item: The item id.
        ///   - rating: The rating; `nil` stores 1 and marks the table as not fully rated.
        ///   - timestamp: The timestamp; `nil` stores 0.
        ///   - line: The input line, for ``InteractionTable/firstUnratedLine``; defaults to the 1-based row number.
        public mutating func append(
            user: String,
            item: String,
            rating: Double? = nil,
            timestamp: Double? = nil,
            line: Int? = nil
        ) {
            self.users.append(Self.intern(user, &self.userLookup, &self.userNames))
            self.items.append(Self.intern(item, &self.itemLookup, &self.itemNames))
            self.ratings.append(rating ?? 1)
            self.timestamps.append(timestamp ?? 0)
            if rating == nil && self.firstUnratedLine == nil {
                self.firstUnratedLine = line ?? self.users.count
            }
        }

        private static func intern(_ id: String, _ lookup: inout [String: Int32], _ names: inout [String]) -> Int32 {
            if let index = lookup[id] {
                return index
            }
            let index = Int32(names.count)
            lookup[id] = index
            names.append(id)
            return index
        }

        /// Builds the table: ids sorted in ``IdentifierOrder``, rows grouped by user and sorted by item, duplicate
        /// pairs collapsed to their last row.
        ///
        /// - Returns: The table.
        public func build() -> InteractionTable {
            let (userIds, userRank) = Self.rank(self.userNames)
            let (itemIds, itemRank) = Self.rank(self.itemNames)

            // Counting sort of rows by user (stable: input order kept within a user).
            var start = [Int](repeating: 0, count: userIds.count + 1)
            for user in self.users {
                start[Int(userRank[Int(user)]) + 1] += 1
            }
            for u in 0..<userIds.count {
                start[u + 1] += start[u]
            }
            var next = start
            var order = [Int](repeating: 0, count: self.users.count)
            for (row, user) in self.users.enumerated() {
                let u = Int(userRank[Int(user)])
                order[next[u]] = row
                next[u] += 1
            }

            var userStart = [0]
            userStart.reserveCapacity(userIds.count + 1)
            var itemIndex: [Int32] = []
            var rating: [Double] = []
            var timestamp: [Double] = []
            itemIndex.reserveCapacity(self.users.count)
            rating.reserveCapacity(self.users.count)
            timestamp.reserveCapacity(self.users.count)
            for u in 0..<userIds.count {
                // Sort the user's rows by (item, input position); the last row of each item wins.
                let rows = order[start[u]..<start[u + 1]].sorted { a, b in
                    let ia = itemRank[Int(self.items[a])]
                    let ib = itemRank[Int(self.items[b])]
                    return ia != ib ? ia < ib : a < b
                }
                for (position, row) in rows.enumerated() {
                    let item = itemRank[Int(self.items[row])]
                    let isLastOfItem =
                        position + 1 == rows.count || itemRank[Int(self.items[rows[position + 1]])] != item
                    if isLastOfItem {
                        itemIndex.append(item)
                        rating.append(self.ratings[row])
                        timestamp.append(self.timestamps[row])
                    }
                }
                userStart.append(itemIndex.count)
            }
            return InteractionTable(
                userIds: userIds,
                itemIds: itemIds,
                inputRowCount: self.users.count,
                firstUnratedLine: self.firstUnratedLine,
                userStart: userStart,
                itemIndex: itemIndex,
                rating: rating,
                timestamp: timestamp
            )
        }

        /// The names in identifier order, and each original index's rank in it.
        private static func rank(_ names: [String]) -> (sorted: [String], rank: [Int32]) {
            let permutation = IdentifierOrder.sortedPermutation(names)
            var rank = [Int32](repeating: 0, count: names.count)
            for (position, original) in permutation.enumerated() {
                rank[original] = Int32(position)
            }
            return (permutation.map { names[$0] }, rank)
        }
    }
}
