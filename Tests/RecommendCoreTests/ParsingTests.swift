import RecommendCore
import Testing

@Suite("Interactions parsing")
struct ParsingTests {
    @Test("RecBole header with types loads as is")
    func recBoleHeader() throws {
        let table = try InteractionTable(
            parsing: "user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
        )
        #expect(table.userIds == ["186", "196"])
        #expect(table.itemIds == ["242", "302"])
        #expect(table.interactions(ofUser: "196") == [Interaction(user: "196", item: "242", rating: 3, timestamp: 881250949)])
    }

    @Test("CSV with a header in another column order, CRLF line ends")
    func csvHeader() throws {
        let table = try InteractionTable(parsing: "item,user,rating\r\nmapo_tofu,alice,4.5\r\n")
        #expect(table.interactions(ofUser: "alice") == [Interaction(user: "alice", item: "mapo_tofu", rating: 4.5, timestamp: 0)])
    }

    @Test("No header, two columns, blank and comment lines skipped")
    func positional() throws {
        let table = try InteractionTable(parsing: "# comment\n\n1 10\n1   20\n2 10\n")
        #expect(table.count == 3)
        #expect(table.firstUnratedLine == 3)
        #expect(table.itemIds == ["10", "20"])
    }

    @Test("The ML-100k file loads", .enabled(if: mlExists))
    func movieLens() throws {
        let table = try InteractionTable(contentsOfFile: Fixtures.repositoryRoot + "/data/ml-100k.inter")
        #expect(table.userIds.count == 943)
        #expect(table.itemIds.count == 1682)
        #expect(table.count == 100_000)
    }
}

let mlExists = (try? InteractionTable(contentsOfFile: Fixtures.repositoryRoot + "/data/ml-100k.inter")) != nil
