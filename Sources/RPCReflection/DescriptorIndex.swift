import RPCCore

/// The files, symbols and extensions server reflection answers from, and the answer to each request: a pure value,
/// testable without a socket.
///
/// ```swift
/// let index = try DescriptorIndex(files: DescriptorSets.grpcHealthV1, services: ["grpc.health.v1.Health"])
/// var sent: Set<String> = []
/// let response = index.answer(ServerReflectionRequest(messageRequest: .listServices("")), sent: &sent)
/// ```
public struct DescriptorIndex: Sendable {
    /// Why the index cannot be built from the files given (a build or generator mistake, found at start-up).
    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    struct File: Sendable {
        var dependencies: [String]
        var bytes: [UInt8]
    }

    /// Files by name.
    let files: [String: File]
    /// The file defining each symbol.
    let fileBySymbol: [String: String]
    /// The file declaring each extension, by extended message and number.
    let fileByExtension: [ReflectionFile.Extension: String]
    /// The services listed, sorted.
    public let services: [String]

    /// Indexes `files` (the same file may come in several sets) and lists `services`, each of which must be
    /// defined by one of them.
    ///
    /// - Throws: ``Error`` for a file whose bytes are not base64, a file given twice with different contents, a
    ///   dependency or a service that no file defines.
    public init(files: [ReflectionFile], services: [String]) throws(Error) {
        var byName: [String: File] = [:]
        var bySymbol: [String: String] = [:]
        var byExtension: [ReflectionFile.Extension: String] = [:]
        for file in files {
            guard let bytes = Base64.decode(file.base64) else {
                throw Error(description: "the descriptor of \(file.name) is not valid base64")
            }
            if let known = byName[file.name] {
                guard known.bytes == bytes else { throw Error(description: "\(file.name) is given twice, differently") }
                continue
            }
            byName[file.name] = File(dependencies: file.dependencies, bytes: bytes)
            for symbol in file.symbols { bySymbol[symbol] = file.name }
            for extensionField in file.extensions { byExtension[extensionField] = file.name }
        }
        for (name, file) in byName {
            if let missing = file.dependencies.first(where: { byName[$0] == nil }) {
                throw Error(description: "\(name) imports \(missing), which no descriptor set holds")
            }
        }
        if let unknown = services.first(where: { bySymbol[$0] == nil }) {
            throw Error(description: "no descriptor set defines the service \(unknown)")
        }
        self.files = byName
        self.fileBySymbol = bySymbol
        self.fileByExtension = byExtension
        self.services = Array(Set(services)).sorted()
    }

    /// The response to one request of a reflection stream.
    ///
    /// A file is sent with the files it imports, transitively, except those already in `sent` (the files sent
    /// earlier on the same stream, which this updates): a client then has everything it needs to build the file.
    /// An unknown file, symbol, extension or message type is an `error_response` with `NOT_FOUND`, a request with no
    /// question one with `INVALID_ARGUMENT`; the stream goes on either way.
    public func answer(_ request: ServerReflectionRequest, sent: inout Set<String>) -> ServerReflectionResponse {
        let answer: ServerReflectionResponse.MessageResponse
        switch request.messageRequest {
        case .listServices?:
            answer = .listServicesResponse(ListServiceResponse(service: services.map { ServiceResponse(name: $0) }))
        case .fileByFilename(let name)?:
            answer = fileResponse(name, sent: &sent) ?? notFound("file \(name) is not known")
        case .fileContainingSymbol(let symbol)?:
            let symbol = symbol.hasPrefix(".") ? String(symbol.dropFirst()) : symbol
            answer =
                fileBySymbol[symbol].flatMap { fileResponse($0, sent: &sent) }
                ?? notFound("symbol \(symbol) is not known")
        case .fileContainingExtension(let request)?:
            let key = ReflectionFile.Extension(extendee: request.containingType, number: request.extensionNumber)
            answer =
                fileByExtension[key].flatMap { fileResponse($0, sent: &sent) }
                ?? notFound("no extension \(request.extensionNumber) of \(request.containingType) is known")
        case .allExtensionNumbersOfType(let type)?:
            if fileBySymbol[type] == nil {
                answer = notFound("type \(type) is not known")
            } else {
                let numbers = fileByExtension.keys.filter { $0.extendee == type }.map(\.number).sorted()
                answer = .allExtensionNumbersResponse(
                    ExtensionNumberResponse(baseTypeName: type, extensionNumber: numbers)
                )
            }
        case nil:
            answer = .errorResponse(
                ErrorResponse(errorCode: StatusCode.invalidArgument.rawValue, errorMessage: "the request asks nothing")
            )
        }
        return ServerReflectionResponse(validHost: request.host, originalRequest: request, messageResponse: answer)
    }

    /// The file and its imports not yet sent, the file first; `nil` when the file is unknown.
    private func fileResponse(_ name: String, sent: inout Set<String>) -> ServerReflectionResponse.MessageResponse? {
        guard let file = files[name] else { return nil }
        var descriptors = [file.bytes]
        sent.insert(name)
        var pending = file.dependencies
        while let next = pending.popLast() {
            guard !sent.contains(next), let dependency = files[next] else { continue }
            sent.insert(next)
            descriptors.append(dependency.bytes)
            pending.append(contentsOf: dependency.dependencies)
        }
        return .fileDescriptorResponse(FileDescriptorResponse(fileDescriptorProto: descriptors))
    }

    private func notFound(_ message: String) -> ServerReflectionResponse.MessageResponse {
        .errorResponse(ErrorResponse(errorCode: StatusCode.notFound.rawValue, errorMessage: message))
    }
}
