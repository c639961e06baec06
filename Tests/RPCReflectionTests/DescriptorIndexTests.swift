import RPCCore
import Testing

@testable import RPCReflection

/// The answers of server reflection, from a small hand-made set of files.
@Suite("DescriptorIndex")
struct DescriptorIndexTests {
    static let base = ReflectionFile(
        name: "demo/base.proto",
        dependencies: [],
        symbols: ["demo.Base", "demo.Base.id"],
        extensions: [.init(extendee: "demo.Base", number: 100)],
        base64: Base64.encode([1, 2, 3])
    )
    static let api = ReflectionFile(
        name: "demo/api.proto",
        dependencies: ["demo/base.proto"],
        symbols: ["demo.Api", "demo.Api.Get", "demo.GetRequest"],
        extensions: [],
        base64: Base64.encode([4, 5])
    )

    static func index() throws -> DescriptorIndex {
        try DescriptorIndex(files: [api, base, base], services: ["demo.Api"])
    }

    static func files(_ response: ServerReflectionResponse) -> [[UInt8]]? {
        guard case .fileDescriptorResponse(let files)? = response.messageResponse else { return nil }
        return files.fileDescriptorProto
    }

    static func errorCode(_ response: ServerReflectionResponse) -> Int32? {
        guard case .errorResponse(let error)? = response.messageResponse else { return nil }
        return error.errorCode
    }

    @Test("list_services names every service, sorted")
    func listServices() throws {
        var sent: Set<String> = []
        let request = ServerReflectionRequest(host: "h", messageRequest: .listServices(""))
        let response = try Self.index().answer(request, sent: &sent)
        #expect(response.validHost == "h")
        #expect(response.originalRequest == request)
        guard case .listServicesResponse(let list)? = response.messageResponse else {
            Issue.record("not a list: \(response)")
            return
        }
        #expect(list.service.map(\.name) == ["demo.Api"])
    }

    @Test("a file comes with its imports once per stream")
    func fileWithImports() throws {
        let index = try Self.index()
        var sent: Set<String> = []
        let first = index.answer(
            ServerReflectionRequest(messageRequest: .fileContainingSymbol("demo.Api.Get")),
            sent: &sent
        )
        #expect(Self.files(first) == [[4, 5], [1, 2, 3]])
        let again = index.answer(
            ServerReflectionRequest(messageRequest: .fileByFilename("demo/api.proto")),
            sent: &sent
        )
        #expect(Self.files(again) == [[4, 5]])
        let leading = index.answer(
            ServerReflectionRequest(messageRequest: .fileContainingSymbol(".demo.Base")),
            sent: &sent
        )
        #expect(Self.files(leading) == [[1, 2, 3]])
    }

    @Test("extensions: by number, all numbers of a type, NOT_FOUND for unknown ones")
    func extensions() throws {
        let index = try Self.index()
        var sent: Set<String> = []
        let found = index.answer(
            ServerReflectionRequest(
                messageRequest: .fileContainingExtension(
                    ExtensionRequest(containingType: "demo.Base", extensionNumber: 100)
                )
            ),
            sent: &sent
        )
        #expect(Self.files(found) == [[1, 2, 3]])
        let missing = index.answer(
            ServerReflectionRequest(
                messageRequest: .fileContainingExtension(
                    ExtensionRequest(containingType: "demo.Base", extensionNumber: 7)
                )
            ),
            sent: &sent
        )
        #expect(Self.errorCode(missing) == StatusCode.notFound.rawValue)
        let numbers = index.answer(
            ServerReflectionRequest(messageRequest: .allExtensionNumbersOfType("demo.GetRequest")),
            sent: &sent
        )
        #expect(
            numbers.messageResponse
                == .allExtensionNumbersResponse(ExtensionNumberResponse(baseTypeName: "demo.GetRequest"))
        )
        let base = index.answer(
            ServerReflectionRequest(messageRequest: .allExtensionNumbersOfType("demo.Base")),
            sent: &sent
        )
        #expect(
            base.messageResponse
                == .allExtensionNumbersResponse(
                    ExtensionNumberResponse(baseTypeName: "demo.Base", extensionNumber: [100])
                )
        )
        let unknown = index.answer(
            ServerReflectionRequest(messageRequest: .allExtensionNumbersOfType("demo.Nope")),
            sent: &sent
        )
        #expect(Self.errorCode(unknown) == StatusCode.notFound.rawValue)
    }

    @Test("unknown names are NOT_FOUND, an empty request INVALID_ARGUMENT")
    func errors() throws {
        let index = try Self.index()
        var sent: Set<String> = []
        for request in [
            ServerReflectionRequest(messageRequest: .fileByFilename("nope.proto")),
            ServerReflectionRequest(messageRequest: .fileContainingSymbol("demo.Nope")),
        ] {
            #expect(Self.errorCode(index.answer(request, sent: &sent)) == StatusCode.notFound.rawValue)
        }
        #expect(
            Self.errorCode(index.answer(ServerReflectionRequest(), sent: &sent)) == StatusCode.invalidArgument.rawValue
        )
        #expect(sent.isEmpty)
    }

    @Test("a set missing an import or a service, or a file given twice differently, is refused")
    func refused() {
        #expect(throws: DescriptorIndex.Error.self) { try DescriptorIndex(files: [Self.api], services: []) }
        #expect(throws: DescriptorIndex.Error.self) { try DescriptorIndex(files: [Self.base], services: ["demo.Api"]) }
        var changed = Self.base
        changed.base64 = Base64.encode([9])
        #expect(throws: DescriptorIndex.Error.self) { try DescriptorIndex(files: [Self.base, changed], services: []) }
    }
}
