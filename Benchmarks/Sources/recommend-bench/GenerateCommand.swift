import ArgumentParser
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
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Write a synthetic data set as TSV.")

    @Option(help: "The file written.") var out: String
    @OptionGroup var synthetic: SyntheticOptions

    func run() throws {
        let spec = synthetic.spec
        guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
            throw ValidationError("cannot create '\(out)'")
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
