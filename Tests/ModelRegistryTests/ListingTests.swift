import Testing

@testable import ModelRegistry

@Suite("Listing with paging and filters")
struct ListingTests {
    @Test("Pages cover every model once, in name order")
    func paging() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let names = (0..<23).map { "model-\(String(format: "%02d", $0))" }.shuffled()
        for (index, name) in names.enumerated() {
            _ = try registry.createModel(
                Model(name: name, author: index % 2 == 0 ? "ann" : "ben", tags: index % 3 == 0 ? ["hot"] : []),
                by: fixture.admin
            )
        }
        var seen: [String] = []
        var token: String? = nil
        var pages = 0
        repeat {
            let page = try registry.listModels(pageSize: 5, pageToken: token, by: fixture.admin)
            #expect(page.models.count <= 5)
            seen += page.models.map(\.name)
            token = page.nextPageToken
            pages += 1
        } while token != nil
        #expect(pages == 5)
        #expect(seen == names.sorted())

        // A model created behind the cursor is not repeated; one ahead of it is seen.
        let first = try registry.listModels(pageSize: 10, by: fixture.admin)
        _ = try registry.createModel(Model(name: "model-00a"), by: fixture.admin)
        _ = try registry.createModel(Model(name: "model-99"), by: fixture.admin)
        let rest = try registry.listModels(pageSize: 1000, pageToken: first.nextPageToken, by: fixture.admin)
        #expect(rest.models.last?.name == "model-99")
        #expect(!rest.models.map(\.name).contains("model-00a"))
        #expect(rest.nextPageToken == nil)
    }

    @Test("Filters by tag, author and name prefix")
    func filters() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        let admin = fixture.admin
        _ = try registry.createModel(Model(name: "movies-a", author: "ann", tags: ["movies", "cf"]), by: admin)
        _ = try registry.createModel(Model(name: "movies-b", author: "ben", tags: ["movies"]), by: admin)
        _ = try registry.createModel(Model(name: "food-a", author: "ann", tags: ["food", "cf"]), by: admin)
        func names(_ filter: ModelFilter) throws -> [String] {
            try registry.listModels(filter: filter, by: admin).models.map(\.name)
        }
        #expect(try names(ModelFilter(tag: "cf")) == ["food-a", "movies-a"])
        #expect(try names(ModelFilter(author: "ann")) == ["food-a", "movies-a"])
        #expect(try names(ModelFilter(namePrefix: "movies-")) == ["movies-a", "movies-b"])
        #expect(try names(ModelFilter(tag: "cf", author: "ann", namePrefix: "mo")) == ["movies-a"])
        #expect(try names(ModelFilter(tag: "none")) == [])
        #expect(try names(ModelFilter()) == ["food-a", "movies-a", "movies-b"])
        #expect(errorCode { _ = try names(ModelFilter(namePrefix: "a/b")) } == .invalidArgument)

        let ann = try fixture.user("ann")
        _ = try registry.createModel(Model(name: "anns-model"), by: ann)
        #expect(try names(ModelFilter(owner: "ann")) == ["anns-model"])
        #expect(try names(ModelFilter(owner: "admin")) == ["food-a", "movies-a", "movies-b"])
        #expect(try registry.listModels(by: ann).models.map(\.name) == ["anns-model"])
    }

    @Test("Page size defaults and bounds; bad tokens")
    func pageSizeAndTokens() throws {
        let fixture = try Fixture()
        let registry = fixture.registry
        for index in 0..<60 { _ = try registry.createModel(Model(name: "m\(1000 + index)"), by: fixture.admin) }
        #expect(try registry.listModels(by: fixture.admin).models.count == 50)
        #expect(try registry.listModels(pageSize: 0, by: fixture.admin).models.count == 50)
        #expect(try registry.listModels(pageSize: 5000, by: fixture.admin).models.count == 60)
        #expect(errorCode { _ = try registry.listModels(pageSize: -1, by: fixture.admin) } == .invalidArgument)
        #expect(errorCode { _ = try registry.listModels(pageToken: "garbage!", by: fixture.admin) } == .invalidArgument)
        let page = try registry.listModels(pageSize: 10, by: fixture.admin)
        let token = try #require(page.nextPageToken)
        #expect(
            errorCode { _ = try registry.listModels(filter: ModelFilter(tag: "x"), pageToken: token, by: fixture.admin) }
                == .invalidArgument
        )
    }
}
