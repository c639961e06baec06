import Foundation
import RecommendCore

/// A synthetic implicit-feedback data set: `users` users with `interactions / users` distinct items each, items drawn
/// with power-law popularity P(rank r) ∝ 1 / (r + 1)^alpha from a deterministic splitmix64 stream.
struct SyntheticSpec: CustomStringConvertible {
    var users: Int
    var items: Int
    var interactions: Int
    var alpha: Double
    var seed: UInt64

    init(_ arguments: inout Arguments) throws {
        self.users = try arguments.int("users", default: 100_000)
        self.items = try arguments.int("items", default: 20_000)
        self.interactions = try arguments.int("interactions", default: 10_000_000)
        self.alpha = try arguments.double("alpha", default: 0.8)
        self.seed = UInt64(try arguments.int("seed", default: 42))
        guard self.users > 0, self.items > 0, self.interactions >= self.users,
            self.interactions / self.users <= self.items
        else {
            throw UsageError(message: "need users > 0, items > 0 and users ≤ interactions ≤ users · items")
        }
    }

    var description: String {
        "\(self.users) users, \(self.items) items, \(self.interactions) interactions, alpha \(self.alpha)"
    }

    /// Calls `body(user, item)` for every interaction, user by user.
    func forEach(_ body: (Int, Int) -> Void) {
        var cumulative = [Double](repeating: 0, count: self.items)
        var total = 0.0
        for rank in 0..<self.items {
            total += 1 / pow(Double(rank + 1), self.alpha)
            cumulative[rank] = total
        }
        var state = self.seed
        var chosen = [Bool](repeating: false, count: self.items)
        var picked: [Int] = []
        for user in 0..<self.users {
            // Spread the remainder so the total is exact.
            let count = self.interactions / self.users + (user < self.interactions % self.users ? 1 : 0)
            picked.removeAll(keepingCapacity: true)
            while picked.count < count {
                state = SplitHash.splitmix64(state)
                let target = Double(state >> 11) / Double(1 << 53) * total
                var low = 0
                var high = self.items - 1
                while low < high {
                    let middle = (low + high) / 2
                    if cumulative[middle] < target { low = middle + 1 } else { high = middle }
                }
                if !chosen[low] {
                    chosen[low] = true
                    picked.append(low)
                }
            }
            for item in picked {
                chosen[item] = false
                body(user, item)
            }
        }
    }

    func table() -> InteractionTable {
        var builder = InteractionTable.Builder(capacity: self.interactions)
        let userNames = (0..<self.users).map(String.init)
        let itemNames = (0..<self.items).map(String.init)
        self.forEach { user, item in builder.append(user: userNames[user], item: itemNames[item], rating: 1) }
        return builder.build()
    }
}

/// Writes a synthetic data set as TSV with a RecBole header.
enum GenerateCommand {
    static func run(_ arguments: inout Arguments) throws {
        let out = try arguments.required("out")
        let spec = try SyntheticSpec(&arguments)
        guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
            throw UsageError(message: "cannot create '\(out)'")
        }
        var buffer = "user_id:token\titem_id:token\n"
        spec.forEach { user, item in
            buffer += "\(user)\t\(item)\n"
            if buffer.utf8.count > 1 << 20 {
                handle.write(Data(buffer.utf8))
                buffer = ""
            }
        }
        handle.write(Data(buffer.utf8))
        try handle.close()
        print("wrote \(spec) to \(out)")
    }
}
