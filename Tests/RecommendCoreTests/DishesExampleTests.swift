#if canImport(Glibc)
import Glibc
#endif
import RecommendCore
import Testing

/// examples/dishes: three cuisines (Sichuan, Cantonese dim sum, Italian), 20 diners, a few cross-over orders.
@Suite("Dishes example")
struct DishesExampleTests {
    static let sichuan: Set = ["kung_pao_chicken", "mapo_tofu", "dan_dan_noodles", "twice_cooked_pork", "hot_and_sour_soup"]
    static let dimSum: Set = ["har_gow", "siu_mai", "char_siu_bao", "egg_tart", "wonton_noodle_soup"]
    static let italian: Set = ["margherita_pizza", "spaghetti_carbonara", "lasagna", "tiramisu", "risotto_alla_milanese"]

    let model: Recommender

    init() throws {
        let folder = Fixtures.repositoryRoot + "/examples/dishes/"
        let manifestText = try String(decoding: readAll(folder + "manifest.txt"), as: UTF8.self)
        let manifest = try Manifest(parsing: manifestText)
        let table = try InteractionTable(contentsOfFile: folder + (manifest.data ?? "interactions.tsv"))
        self.model = try Recommender(interactions: table, manifest: manifest)
    }

    @Test("Loads 20 diners and 15 dishes")
    func sizes() {
        #expect(model.userIds.count == 20)
        #expect(model.itemIds.count == 15)
    }

    @Test("Related dishes stay in the cuisine", arguments: ["kung_pao_chicken", "har_gow", "lasagna"])
    func related(dish: String) throws {
        let cuisine = [Self.sichuan, Self.dimSum, Self.italian].first { $0.contains(dish) } ?? []
        let related = try model.similarItems(item: dish, k: 3)
        #expect(related.count == 3)
        #expect(related.allSatisfy { cuisine.contains($0.item) }, "\(dish) → \(related)")
    }

    @Test("A seed dish recommends its cuisine first")
    func seeds() throws {
        let top = try model.recommend(seedItems: ["margherita_pizza", "tiramisu"], k: 3)
        #expect(top.count == 3 && top.allSatisfy { Self.italian.contains($0.item) }, "\(top)")
        let forUser = try model.recommend(user: "hana", k: 2)
        #expect(forUser.allSatisfy { Self.dimSum.contains($0.item) }, "\(forUser)")
    }
}

/// Reads a whole file (test helper; the library reads files through InteractionTable).
func readAll(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw RecommendError(code: .ioError, message: "cannot open \(path)")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return bytes
}
